import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
/** Folders of product code: the library, the handlers, the example app and demo, the benchmark, the local AWS. */
const PRODUCT_FOLDERS = ['lib', 'lambda', 'bin', 'bench', 'local'];

function typeScriptFiles(folder: string): string[] {
  return fs.readdirSync(path.join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !file.includes(`${path.sep}dist${path.sep}`));
}

/** Every module specifier of a file: static imports, re-exports, `import()` and `require()`. */
function moduleSpecifiers(text: string): string[] {
  const patterns = [/\bfrom\s+'([^']+)'/g, /\bimport\s*\(\s*'([^']+)'\s*\)/g, /\brequire\s*\(\s*'([^']+)'\s*\)/g, /^import\s+'([^']+)'/gm];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]));
}

function importsFromTestFolder(file: string, text = fs.readFileSync(file, 'utf8')): string[] {
  return moduleSpecifiers(text)
    .filter((specifier) => specifier.startsWith('.'))
    .filter((specifier) => {
      const target = path.relative(ROOT, path.resolve(path.dirname(file), specifier));
      return target === 'test' || target.startsWith(`test${path.sep}`);
    });
}

describe('repository layout', () => {
  test.each(PRODUCT_FOLDERS)('nothing in %s/ imports from test/', (folder) => {
    const offenders = typeScriptFiles(folder).flatMap((file) =>
      importsFromTestFolder(file).map((specifier) => `${path.relative(ROOT, file)} imports ${specifier}`));
    expect(offenders).toEqual([]);
  });

  test('the check sees an import from test/ (it is not vacuous)', () => {
    const text = "import { x } from '../test/lib/stack-fixture';\nconst y = require('../local/synth');\n";
    expect(importsFromTestFolder(path.join(ROOT, 'bench', 'probe.ts'), text)).toEqual(['../test/lib/stack-fixture']);
    expect(importsFromTestFolder(path.join(ROOT, 'local', 'emulator', 'probe.ts'), "import '../../test/x';\n")).toEqual(['../../test/x']);
  });

  test('lambda/ imports nothing from lib/ but the contract', () => {
    const offenders = typeScriptFiles('lambda').flatMap((file) => moduleSpecifiers(fs.readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => path.relative(ROOT, path.resolve(path.dirname(file), specifier)))
      .filter((target) => target.startsWith(`lib${path.sep}`) && target !== path.join('lib', 'contract'))
      .map((target) => `${path.relative(ROOT, file)} imports ${target}`));
    expect(offenders).toEqual([]);
  });
});
