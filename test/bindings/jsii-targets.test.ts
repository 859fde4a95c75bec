/**
 * The jsii targets: jsii-pacmak generates the Python, Go, Java and .NET sources. The real builds
 * (wheel, jar, Go module), installed and run by twin apps in each language, are checked by
 * `npm run test:bindings` (test/bindings/), which is too slow for `npm test`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
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
