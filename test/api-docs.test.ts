import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

test('API.md is what jsii-docgen makes of the current assembly (run `npm run docgen`)', () => {
  const fresh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'api-')), 'API.md');
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'jsii-docgen'), ['-o', fresh], { cwd: ROOT, stdio: 'ignore' });
  expect(fs.readFileSync(path.join(ROOT, 'API.md'), 'utf-8')).toBe(fs.readFileSync(fresh, 'utf-8'));
}, 60_000);

test('the jsii assembly declares the targets for Python, .NET, Java and Go', () => {
  const assembly = JSON.parse(fs.readFileSync(path.join(ROOT, '.jsii'), 'utf-8')) as { targets: Record<string, Record<string, unknown>> };
  expect(assembly.targets).toEqual(expect.objectContaining({
    python: expect.objectContaining({ module: 'cdk_lightsail_bucket_access_key' }),
    dotnet: expect.objectContaining({ namespace: 'Cdk.Lightsail.BucketAccessKey' }),
    java: expect.objectContaining({ package: 'io.github.cdklightsail.bucketaccesskey' }),
    go: expect.objectContaining({ moduleName: 'github.com/cdk-lightsail/cdk-lightsail-bucket-access-key-go' }),
  }));
});
