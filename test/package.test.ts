import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** What `npm pack` would publish (the bundle must have been built: `npm test` builds first). */
function packedFiles(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf-8',
  });
  const [pack] = JSON.parse(output) as Array<{ files: Array<{ path: string }> }>;
  return pack.files.map((file) => file.path).sort();
}

describe('npm package', () => {
  const files = packedFiles();

  test('ships the handler bundle, the compiled library and its declarations', () => {
    expect(files).toEqual(expect.arrayContaining([
      'lambda/dist/on-event/index.js',
      'lambda/dist/rotation/index.js',
      'lib/index.js',
      'lib/index.d.ts',
      'lib/access-key.js',
      'lib/access-key.d.ts',
      'lib/contract.js',
      'package.json',
      'README.md',
      'API.md',
      '.jsii',
    ]));
  });

  test('ships no TypeScript sources, tests, handler sources or example app', () => {
    const unexpected = files.filter((file) =>
      (file.endsWith('.ts') && !file.endsWith('.d.ts')) || /^(test|bin|bench|\.ci)\//.test(file) || /^lambda\/[^/]+\.(js|ts)$/.test(file));
    expect(unexpected).toEqual([]);
  });

  test('the bundle carries its SDK clients: it loads and answers outside this repository', () => {
    // A folder with no node_modules above it: any dependency left out of the bundle fails here.
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    fs.copyFileSync(path.join(__dirname, '..', 'lambda', 'dist', 'on-event', 'index.js'), path.join(folder, 'index.js'));
    const script = `require('./index.js').handler(${JSON.stringify({
      RequestType: 'Delete', PhysicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', ResourceProperties: {},
    })}).then((result) => process.stdout.write(JSON.stringify(result)))`;
    const output = execFileSync(process.execPath, ['-e', script], {
      cwd: folder,
      encoding: 'utf-8',
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(output.endsWith('{"PhysicalResourceId":"AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"}')).toBe(true);
  });
});

describe('the packed library in a fresh CDK app', () => {
  const ROOT = path.join(__dirname, '..');
  const lockedVersion = (name: string): string =>
    (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf-8')) as { version: string }).version;
  let appFolder: string;

  beforeAll(() => {
    appFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', appFolder], { cwd: ROOT, encoding: 'utf-8' }).trim().split('\n').pop()!;
    fs.writeFileSync(path.join(appFolder, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // Like a user's app: the package from its tarball, its peers from the registry (npm's cache after npm ci).
    execFileSync('npm', [
      'install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts',
      `./${tarball}`, `aws-cdk-lib@${lockedVersion('aws-cdk-lib')}`, `constructs@${lockedVersion('constructs')}`,
    ], { cwd: appFolder, stdio: 'ignore' });
    fs.writeFileSync(path.join(appFolder, 'app.js'), `
      const { App, Stack } = require('aws-cdk-lib');
      const lightsail = require('aws-cdk-lib/aws-lightsail');
      const { LightsailBucketAccessKey } = require('cdk-lightsail-bucket-access-key');
      const app = new App({ outdir: 'cdk.out', context: { 'aws:cdk:enable-asset-metadata': true } });
      const stack = new Stack(app, 'Consumer');
      const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'consumer-bucket', bundleId: 'small_1_0' });
      new LightsailBucketAccessKey(stack, 'One', { bucket });
      new LightsailBucketAccessKey(stack, 'Two', { bucketName: 'bucket-made-elsewhere', serial: 1 });
      app.synth();
    `);
    execFileSync(process.execPath, ['app.js'], { cwd: appFolder, stdio: 'ignore' });
  }, 180_000);

  test('synthesizes two keys with one provider', () => {
    const template = JSON.parse(fs.readFileSync(path.join(appFolder, 'cdk.out', 'Consumer.template.json'), 'utf-8')) as
      { Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties?: Record<string, unknown> }> };
    const types = Object.values(template.Resources).map((resource) => resource.Type);
    expect(types.filter((type) => type === 'Custom::LightsailBucketAccessKey')).toHaveLength(2);
    expect(types.filter((type) => type === 'AWS::SecretsManager::Secret')).toHaveLength(2);
    expect(types.filter((type) => type === 'AWS::Lambda::Function')).toHaveLength(2);
  });

  test('the handler asset is the bundle that was built, byte for byte', () => {
    const template = JSON.parse(fs.readFileSync(path.join(appFolder, 'cdk.out', 'Consumer.template.json'), 'utf-8')) as
      { Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties?: Record<string, unknown> }> };
    const handler = Object.values(template.Resources).find((resource) => resource.Properties?.Handler === 'index.handler')!;
    const asset = path.join(appFolder, 'cdk.out', handler.Metadata!['aws:asset:path'], 'index.js');
    expect(fs.readFileSync(asset)).toEqual(fs.readFileSync(path.join(ROOT, 'lambda', 'dist', 'on-event', 'index.js')));
    // It came from the installed package, not from this repository.
    expect(fs.realpathSync(require.resolve('cdk-lightsail-bucket-access-key', { paths: [appFolder] }))).toContain(appFolder);
  });
});
