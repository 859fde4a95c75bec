import { spawn } from 'child_process';

/** What one invocation of a Lambda function gave back, as Lambda's Invoke API reports it. */
export interface Invocation {
  readonly payload: unknown;
  /** 'Unhandled' when the handler threw or timed out, as Lambda's Invoke API reports it. */
  readonly functionError?: string;
  /** Every line the function printed on stdout and stderr. */
  readonly logLines: string[];
}

export interface LambdaFunctionSpec {
  /** Absolute path of the handler's module file. */
  readonly file: string;
  /** Exported handler name. */
  readonly exportName: string;
  /** The function's environment: template variables plus what Lambda sets. */
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
}

// Runs inside the child: load the handler, invoke it once with a Lambda-like context (its remaining
// time counts down from the function's timeout), send the outcome over IPC, exit.
const RUNNER = `
const handler = require(process.env.RUNNER_HANDLER_FILE)[process.env.RUNNER_HANDLER_EXPORT];
const deadline = Date.now() + Number(process.env.RUNNER_TIMEOUT_MS);
const context = {
  awsRequestId: require('crypto').randomUUID(),
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME || 'local-function',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
process.once('message', async (event) => {
  let outcome;
  try {
    outcome = { payload: (await handler(event, context)) ?? null };
  } catch (error) {
    outcome = { error: { errorType: error && error.name || 'Error', errorMessage: error && error.message || String(error),
      trace: String(error && error.stack || '').split('\\n') } };
  }
  process.send(outcome, () => process.exit(0));
});
`;

/**
 * Invokes a function's handler in a fresh Node.js process (a cold start), with only the given
 * environment, the way Lambda would: a thrown error becomes FunctionError 'Unhandled' with
 * errorMessage in the payload; running past the timeout kills the process.
 */
export function invokeInChildProcess(spec: LambdaFunctionSpec, event: object): Promise<Invocation> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', RUNNER], {
      env: {
        ...spec.environment,
        RUNNER_HANDLER_FILE: spec.file,
        RUNNER_HANDLER_EXPORT: spec.exportName,
        RUNNER_TIMEOUT_MS: String(spec.timeoutSeconds * 1000),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const output: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf-8')));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf-8')));
    let outcome: { payload?: unknown; error?: unknown } | undefined;
    child.on('message', (message: { payload?: unknown; error?: unknown }) => {
      outcome = message;
    });
    const timer = setTimeout(() => {
      outcome = { error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds` } };
      child.kill('SIGKILL');
    }, spec.timeoutSeconds * 1000);
    child.on('error', reject);
    // 'close', not 'exit': 'exit' can come before the child's last IPC message has been read.
    child.on('close', (code) => {
      clearTimeout(timer);
      const logLines = output.join('').split('\n').filter((line) => line !== '');
      if (!outcome) {
        outcome = { error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: - Error: Runtime exited with error: exit status ${code}` } };
      }
      resolve(outcome.error === undefined
        ? { payload: outcome.payload, logLines }
        : { payload: outcome.error, functionError: 'Unhandled', logLines });
    });
    child.send(event);
  });
}
