/**
 * AWS's event-ruler, the open-source engine EventBridge's matching is built on, as a judge for
 * tests: `Ruler.matchesRule(event, rule)` on every pair of a batch, in one JVM (MatchBatch.java,
 * built by install.sh into .engines/event-ruler).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const BUILD = join(__dirname, '..', '..', '..', '.engines', 'event-ruler');

export interface MatchQuestion {
  readonly event: Record<string, unknown>;
  readonly rule: Record<string, unknown>;
}

function classpath(): string {
  const listed = join(BUILD, 'classpath.txt');
  if (!existsSync(listed) || !existsSync(join(BUILD, 'classes'))) {
    throw new Error(`event-ruler is not built in ${BUILD}: run bash test/engines/install.sh`);
  }
  return [join(BUILD, 'classes'), readFileSync(listed, 'utf8').trim()].join(':');
}

/** For each pair, whether event-ruler matches the event against the rule. Throws when the JVM fails. */
export function matchesRule(questions: readonly MatchQuestion[]): boolean[] {
  const run = spawnSync('java', ['-cp', classpath(), 'engines.eventruler.MatchBatch'], {
    input: JSON.stringify(questions),
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  if (run.error || run.status !== 0) {
    throw new Error(`event-ruler failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}`);
  }
  const answers = JSON.parse(run.stdout) as unknown;
  if (!Array.isArray(answers) || answers.length !== questions.length || answers.some((answer) => typeof answer !== 'boolean')) {
    throw new Error(`event-ruler answered ${run.stdout} to ${questions.length} questions`);
  }
  return answers as boolean[];
}
