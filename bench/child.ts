/**
 * Runs one inline script in a fresh Node.js process and times it from spawn to the first IPC
 * message the script sends back (its result). Bounded by a timeout; stderr is kept for errors.
 */
import { spawn } from 'child_process';
import { performance } from 'perf_hooks';

export interface ChildRun<T> {
  /** Milliseconds from spawn() to the child's result message. */
  readonly wallMs: number;
  readonly message: T;
}

export interface ChildSpec {
  /** Source run with `node -e`. */
  readonly script: string;
  /** The child's whole environment (nothing is inherited). */
  readonly env: Record<string, string>;
  /** Sent to the child over IPC right after spawn, if given. */
  readonly input?: unknown;
  readonly timeoutMs: number;
  readonly cwd?: string;
}

export function runChild<T>(spec: ChildSpec): Promise<ChildRun<T>> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', spec.script], {
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    let result: ChildRun<T> | undefined;
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf-8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.timeoutMs);
    child.once('message', (message: T) => {
      result = { wallMs: performance.now() - started, message };
    });
    child.once('error', reject);
    // 'close', not 'exit': 'exit' can come before the child's result message has been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (result) {
        resolve(result);
      } else {
        reject(new Error(`child exited (code ${code}, signal ${signal}) without a result:\n${stderr.slice(-2000)}`));
      }
    });
    if (spec.input !== undefined) {
      child.send(spec.input as object);
    }
  });
}

/** The variables every child gets besides its own: PATH only. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin' };
}
