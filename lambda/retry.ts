/**
 * The time budget of one event, and the one place where the handlers' AWS calls are retried for
 * throttling and for IAM propagation. Both answers mean the call did nothing, so retrying is safe,
 * even for CreateBucketAccessKey.
 *
 * - Throttling is retried with exponential backoff and full jitter for as long as the event has
 *   time, less a reserve kept to report the failure and run compensation.
 * - AccessDenied is retried during the IAM window from the start of the event: a grant that this
 *   deployment has just added to the handler's role can take seconds to propagate.
 *
 * Everything else (5xx, timeouts, lost connections) is the SDK's retry strategy's business (see
 * sdk-config.ts), which never sees throttling. The budget lives here rather than in a custom SDK
 * retry strategy because the clients are module-level (reused by warm invocations) while the
 * deadline belongs to the event, and because a failure reason must name the call and its resource.
 * Each handler runs its event through `runEvent`; a clean-up runs through `cleanUp`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isThrottlingError } from '@smithy/core/retry';
import type { Context } from 'aws-lambda';
import { logStep } from './log';
import { describeError, errorName } from './sdk-errors';

/** Kept back from every event for the failure report and compensation: max(3 s, 15 %). */
const MIN_RESERVE_MS = 3_000;
const RESERVE_SHARE = 0.15;
/** AccessDenied is retried for min(60 s, half the event's time) from its start. */
const MAX_IAM_WINDOW_MS = 60_000;
/** Full jitter: each wait is random in [0, min(MAX_WAIT_MS, FIRST_WAIT_MS × 2^retry)]. */
const FIRST_WAIT_MS = 200;
const MAX_WAIT_MS = 5_000;
/** Compensation may run into the reserve, but leaves this much to return the failure. */
const REPORT_MS = 500;

/** What IAM (and Lightsail, for an unsigned or unauthorized caller) answers before a grant has propagated. */
const DENIED_ERROR_NAMES = ['AccessDenied', 'AccessDeniedException', 'UnauthenticatedException'];

const SERVICE_NAMES: Record<string, string> = { lightsail: 'Lightsail', secretsmanager: 'Secrets Manager', s3: 'S3' };

/** What the handlers need of Lambda's context: the time left before the function's timeout. */
export type LambdaContext = Pick<Context, 'getRemainingTimeInMillis'>;

/** One event's budget, and the phase it is in. */
interface EventScope {
  /** Throttling is retried until then. */
  readonly retryUntil: number;
  /** AccessDenied is retried until then. */
  readonly deniedUntil: number;
  /** Clean-up retries throttling until then. */
  readonly reserveUntil: number;
  /** Deleting a key nobody holds, putting the secret back: throttling is retried into the reserve. */
  readonly cleaningUp: boolean;
}

// Each invocation runs in its own scope: the clients are module-level (reused by warm invocations),
// but the deadline and the phase belong to the event, and every call of the event finds them here.
const events = new AsyncLocalStorage<EventScope>();

function scopeFrom(remainingMs: number): EventScope {
  const now = Date.now();
  const retryUntil = now + remainingMs - Math.max(MIN_RESERVE_MS, remainingMs * RESERVE_SHARE);
  return {
    retryUntil,
    deniedUntil: Math.min(retryUntil, now + Math.min(MAX_IAM_WINDOW_MS, remainingMs / 2)),
    reserveUntil: now + remainingMs - REPORT_MS,
    cleaningUp: false,
  };
}

/** Runs one event's work (each handler's whole body): its time counts from here. */
export function runEvent<T>(context: LambdaContext, work: () => Promise<T>): Promise<T> {
  return events.run(scopeFrom(context.getRemainingTimeInMillis()), work);
}

/**
 * Runs a clean-up of the current event: deleting a key nobody holds, putting the secret back, or
 * checking for a key a failed call made. Its throttled calls are retried into the reserve.
 */
export function cleanUp<T>(work: () => Promise<T>): Promise<T> {
  return events.run({ ...currentScope(), cleaningUp: true }, work);
}

function currentScope(): EventScope {
  const scope = events.getStore();
  if (!scope) {
    throw new Error('An AWS call outside of an event: a handler runs its work through runEvent');
  }
  return scope;
}

export interface AwsCall {
  /** The IAM action, e.g. `lightsail:CreateBucketAccessKey`: the call, and the permission it needs. */
  readonly action: string;
  /** What the call acts on, for failure reasons, e.g. `Lightsail bucket "my-bucket"`. */
  readonly resource: string;
  /** False for a call signed with a new access key (rotation's test step): its caller waits for the key. */
  readonly retryDenied?: boolean;
}

function isDenied(error: unknown): boolean {
  // Stryker disable next-line StringLiteral: any text that is not a denied error's name does for an error without a name.
  return DENIED_ERROR_NAMES.includes(errorName(error) ?? '');
}

export function isThrottled(error: unknown): boolean {
  return typeof error === 'object' && error !== null && isThrottlingError(error as Parameters<typeof isThrottlingError>[0]);
}

/** Throttled or denied: AWS refused the request before acting on it. */
export function refusedBeforeActing(error: unknown): boolean {
  return isThrottled(error) || isDenied(error);
}

/** Until when the current phase's calls may run: ordinary calls leave the reserve alone, a clean-up may use it. */
function phaseDeadline(scope: EventScope): number {
  return scope.cleaningUp ? scope.reserveUntil : scope.retryUntil;
}

/** Milliseconds the current phase of the event has left (for waits outside callAws, such as polling). */
export function phaseTimeLeft(): number {
  return phaseDeadline(currentScope()) - Date.now();
}

/**
 * Sends one AWS request (`request` makes it, with the signal that aborts it; it is called again for
 * each attempt) and retries it while it is throttled or denied and the event's budget allows. Any
 * other error is thrown as it came; when the budget ends, throws an error that says why the call
 * kept failing. No attempt, with the SDK's own retries inside it, outlives the phase's deadline.
 */
export async function callAws<T>(call: AwsCall, request: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const scope = currentScope();
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await beforeDeadline(call, phaseDeadline(scope), started, request);
    } catch (error) {
      const throttled = isThrottled(error);
      if (!throttled && !(isDenied(error) && call.retryDenied !== false)) {
        throw error;
      }
      const until = throttled ? phaseDeadline(scope) : scope.deniedUntil;
      const room = until - Date.now();
      if (room <= 0) {
        throw gaveUp(call, error, throttled, attempt, Date.now() - started);
      }
      const wait = Math.min(room, Math.floor(Math.random() * Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** (attempt - 1))));
      logStep(throttled ? 'throttled-retrying' : 'denied-retrying', { action: call.action, error: errorName(error), attempt: String(attempt), waitMs: String(wait) });
      await new Promise((wake) => setTimeout(wake, wait));
    }
  }
}

/**
 * One attempt, abandoned at the deadline: the SDK gets the signal (so the request's socket goes),
 * and the attempt fails then even if the SDK is between its own retries.
 */
async function beforeDeadline<T>(call: AwsCall, deadline: number, started: number, request: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_answer, fail) => {
    timer = setTimeout(() => {
      const error = deadlinePassed(call, Date.now() - started);
      // Rejected first, so that the race ends with this error rather than the SDK's AbortError.
      fail(error);
      controller.abort(error);
    }, Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([request(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function deadlinePassed(call: AwsCall, elapsedMs: number): Error {
  const [prefix, operation] = call.action.split(':');
  return new RetriesExhausted('DeadlineExceeded',
    `${SERVICE_NAMES[prefix] ?? prefix} did not answer ${operation} on ${call.resource} within the event's time ` +
    `(${(elapsedMs / 1000).toFixed(1)} s, the SDK's own retries included); the rest of the function's time was kept ` +
    'to report the failure and clean up');
}

/** Keeps the last error's name (callers and tests recognise it) with a message that explains the wait. */
class RetriesExhausted extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function gaveUp(call: AwsCall, error: unknown, throttled: boolean, attempts: number, elapsedMs: number): Error {
  const [prefix, operation] = call.action.split(':');
  const service = SERVICE_NAMES[prefix] ?? prefix;
  const name = errorName(error) ?? 'Error';
  const seconds = (elapsedMs / 1000).toFixed(1);
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  const last = describeError(error);
  if (throttled) {
    return new RetriesExhausted(name,
      `${service} kept throttling ${operation} on ${call.resource} for ${seconds} s (${tries}; last answer: ${last}); ` +
      "the rest of the function's time was kept to report the failure and clean up");
  }
  return new RetriesExhausted(name,
    `${operation} on ${call.resource} was denied for ${seconds} s (${tries}; last answer: ${last}). ` +
    `The handler's role needs ${call.action} on ${call.resource}; IAM may still have been propagating ` +
    'a policy change made by this deployment: retry the deployment, and if it fails again check the role\'s policy');
}
