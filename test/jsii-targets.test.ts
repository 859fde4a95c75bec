/**
 * The jsii targets. jsii-pacmak generates the Python, Go, Java and .NET sources here; the Python
 * wheel is built with Debian's setuptools and wheel (jsii-pacmak's own Python build pins setuptools
 * and twine versions that only PyPI has). Java, .NET and Go packages need Maven Central, the .NET SDK
 * and the Go module proxy, none of which this machine reaches.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
let out: string;

beforeAll(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'pacmak-'));
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'jsii-pacmak'),
    ['--code-only', '--targets', 'python', 'go', 'java', 'dotnet', '-o', out], { cwd: ROOT, stdio: 'ignore' });
}, 180_000);

test.each([
  ['python', 'python/src/cdk_lightsail_bucket_access_key/__init__.py', /class LightsailBucketAccessKey\(/],
  ['go', 'go/cdklightsailbucketaccesskey/LightsailBucketAccessKey.go', /func NewLightsailBucketAccessKey\(/],
  ['java', 'java/src/main/java/io/github/cdklightsail/bucketaccesskey/LightsailBucketAccessKey.java', /public class LightsailBucketAccessKey /],
  ['dotnet', 'dotnet/Cdk.Lightsail.BucketAccessKey/Cdk/Lightsail/BucketAccessKey/LightsailBucketAccessKey.cs', /public class LightsailBucketAccessKey /],
])('jsii-pacmak generates the %s binding', (_target, file, declaration) => {
  const source = fs.readFileSync(path.join(out, file), 'utf-8');
  expect(source).toMatch(declaration);
  expect(source).toMatch(/grantRead|grant_read|GrantRead/);
});

test('the Python package builds into a wheel that carries the jsii assembly', () => {
  const dist = path.join(out, 'wheel');
  execFileSync('/usr/bin/python3', ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '-w', dist, '.'],
    { cwd: path.join(out, 'python'), stdio: 'ignore' });
  const [wheel] = fs.readdirSync(dist);
  expect(wheel).toMatch(/^cdk_lightsail_bucket_access_key-0\.1\.0-py3-none-any\.whl$/);
  const listing = execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-l', path.join(dist, wheel)], { encoding: 'utf-8' });
  expect(listing).toMatch(/cdk_lightsail_bucket_access_key\/__init__\.py/);
  expect(listing).toMatch(/cdk_lightsail_bucket_access_key\/_jsii\/cdk-lightsail-bucket-access-key@0\.1\.0\.jsii\.tgz/);
  execFileSync('/usr/bin/python3', ['-m', 'py_compile', path.join(out, 'python/src/cdk_lightsail_bucket_access_key/__init__.py')]);
}, 60_000);
