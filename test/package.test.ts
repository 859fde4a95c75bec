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
