/**
 * Every TypeScript example of the README (carried in the jsii assembly) compiles under jsii-rosetta's
 * strict mode, inside the fixtures in rosetta/ that hold the surrounding stack. `npm run package` runs
 * the same check before it builds the bindings, whose docs carry the translations.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

test('the README examples compile under jsii-rosetta --strict', () => {
  expect(() => execFileSync(path.join(ROOT, 'node_modules', '.bin', 'jsii-rosetta'), ['extract', '--strict', '.jsii'], {
    cwd: ROOT,
    encoding: 'utf-8',
    stdio: 'pipe',
  })).not.toThrow();
}, 300_000);
