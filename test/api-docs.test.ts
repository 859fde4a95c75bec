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

interface Documented { readonly name?: string; readonly docs?: { readonly summary?: string } }
interface Callable extends Documented { readonly parameters?: Documented[] }
interface AssemblyType extends Documented {
  readonly initializer?: Callable;
  readonly methods?: Callable[];
  readonly properties?: Documented[];
}

test('every public type, member and parameter has a doc comment (API.md says "No description" otherwise)', () => {
  const assembly = JSON.parse(fs.readFileSync(path.join(ROOT, '.jsii'), 'utf-8')) as { types: Record<string, AssemblyType> };
  const undocumented: string[] = [];
  const check = (where: string, item: Documented | undefined) => {
    if (item && !item.docs?.summary) {
      undocumented.push(where);
    }
  };
  for (const [fqn, type] of Object.entries(assembly.types)) {
    check(fqn, type);
    const callables: Array<[string, Callable]> = [
      ...(type.initializer ? [['constructor', type.initializer] as [string, Callable]] : []),
      ...(type.methods ?? []).map((method): [string, Callable] => [method.name!, method]),
    ];
    for (const [name, callable] of callables) {
      check(`${fqn}.${name}`, callable);
      for (const parameter of callable.parameters ?? []) {
        check(`${fqn}.${name}(${parameter.name})`, parameter);
      }
    }
    for (const property of type.properties ?? []) {
      check(`${fqn}.${property.name}`, property);
    }
  }
  expect(undocumented).toEqual([]);
});

test('the package exports the construct API only: nothing test-only (no asset directories)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exported = Object.keys(require(path.join(ROOT, 'lib', 'index.js')) as object).sort();
  expect(exported).toEqual(['LightsailBucketAccessKey', 'LightsailBucketAccessKeyProvider']);
});
