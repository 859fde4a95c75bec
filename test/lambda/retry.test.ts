import { LightsailClient } from '@aws-sdk/client-lightsail';
import type { RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { AwsCall, LambdaContext, callAws, cleanUp, phaseTimeLeft, runEvent } from '../../lambda/retry';
import { sdkClientConfig, sdkClientConfigWithoutRetries } from '../../lambda/sdk-config';
import { accessDenied, lambdaContext, onFakeClock, output, refused, throttled, useFakeClock } from './fixtures';

const CALL = { action: 'lightsail:GetBuckets', resource: 'Lightsail bucket "my-bucket"' };

/** A request that fails with `errors` in turn, then answers 'done'; counts its attempts. */
function requestFailing(...errors: Error[]) {
  const request = jest.fn(async () => {
    const error = errors.shift();
    if (error) {
      throw error;
    }
    return 'done';
  });
  return request;
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('callAws', () => {
  beforeEach(useFakeClock);

  test('retries throttling until the call succeeds', async () => {
    const request = requestFailing(throttled(), throttled(), throttled());

    expect(await onFakeClock(runEvent(lambdaContext(60_000), () => callAws(CALL, request)))).toBe('done');
    expect(request).toHaveBeenCalledTimes(4);
  });

  test('throws any other error at once, as it came', async () => {
    const error = refused('no such thing');
    const request = requestFailing(error);

    expect(await failureOf(onFakeClock(runEvent(lambdaContext(60_000), () => callAws(CALL, request))))).toBe(error);
    expect(request).toHaveBeenCalledTimes(1);
  });

  test('gives up on throttling when the reserve begins, naming the service, the time and the attempts', async () => {
    // 3.4 s: the reserve is 3 s, so throttling is retried for 0.4 s.
    const context = lambdaContext(3_400);
    const request = jest.fn(async () => {
      throw throttled();
    });

    const error = await failureOf(onFakeClock(runEvent(context, () => callAws(CALL, request))));

    expect(error.name).toBe('ThrottlingException');
    const attempts = request.mock.calls.length;
    expect(attempts).toBeGreaterThan(1);
    expect(error.message).toMatch(new RegExp(
      `^Lightsail kept throttling GetBuckets on Lightsail bucket "my-bucket" for 0\\.[3-9] s \\(${attempts} attempts; ` +
      'last answer: ThrottlingException: Rate exceeded\\)'));
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(2_500);
  });

  test('a clean-up retries throttling into the reserve', async () => {
    const context = lambdaContext(3_400);
    await jest.advanceTimersByTimeAsync(450); // past the end of ordinary retries
    const request = requestFailing(throttled(), throttled());

    expect(await onFakeClock(runEvent(context, () => cleanUp(() => callAws(CALL, request))))).toBe('done');
    expect(request).toHaveBeenCalledTimes(3);
  });

  test.each([
    ['AccessDeniedException', accessDenied],
    ['AccessDenied', () => Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })],
    ['UnauthenticatedException', () => Object.assign(new Error('not authenticated'), { name: 'UnauthenticatedException' })],
  ])('retries %s while the IAM window lasts', async (_name, denied) => {
    const request = requestFailing(denied(), denied());

    expect(await onFakeClock(runEvent(lambdaContext(60_000), () => callAws(CALL, request)))).toBe('done');
    expect(request).toHaveBeenCalledTimes(3);
  });

  test('the IAM window counts from the start of the event, for every call', async () => {
    // 4 s: the window is min(60 s, 2 s) and ends with ordinary retries, at 1 s.
    const context = lambdaContext(4_000);
    const first = jest.fn(async () => {
      throw accessDenied();
    });
    const second = requestFailing(accessDenied(), accessDenied());
    const [firstError, secondError] = await onFakeClock(runEvent(context, async () => {
      const firstFailure = await failureOf(callAws(CALL, first));
      expect(first.mock.calls.length).toBeGreaterThan(1);
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(2_500);
      return [firstFailure, await failureOf(callAws({ action: 'secretsmanager:GetSecretValue', resource: 'secret arn:example' }, second))];
    }));

    expect(second).toHaveBeenCalledTimes(1);
    expect(firstError.name).toBe('AccessDeniedException');
    expect(firstError.message).toMatch(/^GetBuckets on Lightsail bucket "my-bucket" was denied for 1\.\d s \(\d+ attempts; last answer: AccessDeniedException: User is not authorized\)\./);
    expect(firstError.message).toContain('The handler\'s role needs lightsail:GetBuckets on Lightsail bucket "my-bucket"');
    expect(firstError.message).toContain('IAM may still have been propagating');
    expect(secondError.message).toMatch(/^GetSecretValue on secret arn:example was denied for 0\.0 s \(1 attempt; /);
    expect(secondError.message).toContain('needs secretsmanager:GetSecretValue on secret arn:example');
  });

  test('does not retry a denial when told so (a call signed with a new key)', async () => {
    const error = accessDenied();
    const request = requestFailing(error);

    expect(await failureOf(onFakeClock(runEvent(lambdaContext(60_000), () => callAws({ ...CALL, retryDenied: false }, request))))).toBe(error);
    expect(request).toHaveBeenCalledTimes(1);
  });

  test('refuses a call outside of an event: there is no deadline to keep', async () => {
    const request = requestFailing();

    expect((await failureOf(callAws(CALL, request))).message).toBe('An AWS call outside of an event: a handler runs its work through runEvent');
    expect(request).not.toHaveBeenCalled();
  });

  test('each event has its own deadline, even while another event runs', async () => {
    const short = runEvent(lambdaContext(3_000), () => callAws(CALL, async () => {
      throw throttled();
    }));
    const long = runEvent(lambdaContext(60_000), () => callAws(CALL, requestFailing(throttled(), throttled())));

    expect((await failureOf(onFakeClock(short))).message).toContain('for 0.0 s (1 attempt;');
    expect(await onFakeClock(long)).toBe('done');
  });
});

describe('the SDK clients\' own retries', () => {
  async function strategyOf(config: { retryStrategy: RetryStrategyV2 }): Promise<RetryStrategyV2> {
    const client = new LightsailClient({ ...config, region: 'us-east-1' });
    const strategy = await (client.config.retryStrategy as () => Promise<RetryStrategyV2>)();
    client.destroy();
    return strategy;
  }

  async function retries(strategy: RetryStrategyV2, errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR'): Promise<boolean> {
    const token = await strategy.acquireInitialRetryToken('');
    return strategy.refreshRetryTokenForRetry(token as StandardRetryToken, { errorType }).then(() => true, () => false);
  }

  test('retry a 5xx or a timeout, but leave throttling to callAws', async () => {
    const strategy = await strategyOf(sdkClientConfig());
    expect(await retries(strategy, 'TRANSIENT')).toBe(true);
    expect(await retries(strategy, 'THROTTLING')).toBe(false);
  });

  test('never retry CreateBucketAccessKey: a lost answer may hide a new key', async () => {
    const strategy = await strategyOf(sdkClientConfigWithoutRetries());
    expect(await retries(strategy, 'TRANSIENT')).toBe(false);
    expect(await retries(strategy, 'SERVER_ERROR')).toBe(false);
    expect(await retries(strategy, 'THROTTLING')).toBe(false);
  });
});

/**
 * The arithmetic, step by step: a fake clock (Date.now and setTimeout) and Math.random fixed at 0.5,
 * so that each full-jitter wait is half its ceiling: 100, 200, 400, 800, 1600, then 2500 (half of 5 s).
 */
describe('callAws, on a fake clock', () => {
  beforeEach(useFakeClock);

  const DENIED_CALL = { action: 'secretsmanager:PutSecretValue', resource: 'secret arn:example' };

  /** Runs the call to its end on the fake clock; the ms (from the start) of each attempt, and the outcome. */
  async function run(context: LambdaContext, call: AwsCall, request: () => Promise<string>, phase = (work: () => Promise<string>) => work()) {
    const start = Date.now();
    const attemptsAt: number[] = [];
    const outcome = runEvent(context, () => phase(() => callAws(call, () => {
      attemptsAt.push(Date.now() - start);
      return request();
    })));
    return { attemptsAt, outcome: await onFakeClock(outcome).then((value) => value, (error: unknown) => error) };
  }

  function always(error: () => unknown): () => Promise<string> {
    return async () => {
      throw error();
    };
  }

  /** The retry log lines of the test. */
  function retryLines(): Array<Record<string, string>> {
    return output.map((line) => JSON.parse(line) as Record<string, string>);
  }

  test('throttling: exponential backoff with full jitter, capped at 5 s, each wait logged with the call and the attempt', async () => {
    const { attemptsAt, outcome } = await run(lambdaContext(60_000), CALL, requestFailing(...Array.from({ length: 8 }, () => throttled())));

    expect(outcome).toBe('done');
    expect(attemptsAt).toEqual([0, 100, 300, 700, 1_500, 3_100, 5_600, 8_100, 10_600]);
    expect(retryLines()).toEqual([100, 200, 400, 800, 1_600, 2_500, 2_500, 2_500].map((wait, index) => ({
      step: 'throttled-retrying', action: 'lightsail:GetBuckets', error: 'ThrottlingException', attempt: String(index + 1), waitMs: String(wait),
    })));
  });

  test('each wait is a whole number of ms, anywhere from 0 up to its ceiling', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    const { attemptsAt } = await run(lambdaContext(60_000), CALL, requestFailing(throttled(), throttled(), throttled()));
    expect(attemptsAt).toEqual([0, 199, 598, 1_397]);

    jest.spyOn(Math, 'random').mockReturnValue(0);
    const again = await run(lambdaContext(60_000), CALL, requestFailing(throttled(), throttled()));
    expect(again.attemptsAt).toHaveLength(3);
    expect(retryLines().map((line) => line.waitMs)).toEqual(['199', '399', '799', '0', '0']);
  });

  test('the reserve is 3 s of a short event: throttling is retried until then, the last wait cut to fit', async () => {
    const { attemptsAt, outcome } = await run(lambdaContext(4_000), CALL, always(throttled));

    expect(attemptsAt).toEqual([0, 100, 300, 700, 1_000]);
    expect(retryLines().map((line) => line.waitMs)).toEqual(['100', '200', '400', '300']);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).name).toBe('ThrottlingException');
    expect((outcome as Error).message).toBe(
      'Lightsail kept throttling GetBuckets on Lightsail bucket "my-bucket" for 1.0 s (5 attempts; last answer: ThrottlingException: Rate exceeded); ' +
      "the rest of the function's time was kept to report the failure and clean up");
  });

  test('the reserve is 15 % of a long event', async () => {
    const { attemptsAt, outcome } = await run(lambdaContext(40_000), CALL, always(throttled));

    expect(attemptsAt.at(-1)).toBe(34_000);
    expect((outcome as Error).message).toContain('for 34.0 s (19 attempts;');
  });

  test('a clean-up retries throttling until 0.5 s before the end', async () => {
    const { attemptsAt, outcome } = await run(lambdaContext(4_000), CALL, always(throttled), cleanUp);

    expect(attemptsAt.at(-1)).toBe(3_500);
    expect((outcome as Error).message).toContain('for 3.5 s (7 attempts;');
  });

  test('a clean-up gets no longer IAM window', async () => {
    const { attemptsAt } = await run(lambdaContext(10_000), DENIED_CALL, always(accessDenied), cleanUp);
    expect(attemptsAt.at(-1)).toBe(5_000);
  });

  test('access denied: the same backoff, logged as denied, until half of a short event', async () => {
    const { attemptsAt, outcome } = await run(lambdaContext(10_000), DENIED_CALL, always(accessDenied));

    expect(attemptsAt).toEqual([0, 100, 300, 700, 1_500, 3_100, 5_000]);
    expect(retryLines()).toEqual([100, 200, 400, 800, 1_600, 1_900].map((wait, index) => ({
      step: 'denied-retrying', action: 'secretsmanager:PutSecretValue', error: 'AccessDeniedException', attempt: String(index + 1), waitMs: String(wait),
    })));
    expect((outcome as Error).name).toBe('AccessDeniedException');
    expect((outcome as Error).message).toBe(
      'PutSecretValue on secret arn:example was denied for 5.0 s (7 attempts; last answer: AccessDeniedException: User is not authorized). ' +
      "The handler's role needs secretsmanager:PutSecretValue on secret arn:example; IAM may still have been propagating " +
      "a policy change made by this deployment: retry the deployment, and if it fails again check the role's policy");
  });

  test('access denied: at most 60 s of a long event', async () => {
    const { attemptsAt } = await run(lambdaContext(200_000), DENIED_CALL, always(accessDenied));
    expect(attemptsAt.at(-1)).toBe(60_000);
  });

  test('access denied: never past the start of the reserve', async () => {
    const { attemptsAt } = await run(lambdaContext(4_000), DENIED_CALL, always(accessDenied));
    expect(attemptsAt.at(-1)).toBe(1_000);
  });

  test('once the budget is spent, a throttled call is tried once and fails at once', async () => {
    const afterASecond = async (work: () => Promise<string>) => {
      await new Promise((wake) => setTimeout(wake, 1_000));
      return work();
    };
    const { attemptsAt, outcome } = await run(lambdaContext(4_000), CALL, always(throttled), afterASecond);

    expect(attemptsAt).toEqual([1_000]);
    expect(retryLines()).toEqual([]);
    expect((outcome as Error).message).toContain('for 0.0 s (1 attempt;');
  });

  test('a service without a known name is named by its prefix; an error without a name is an Error', async () => {
    // Throttled by its HTTP status alone.
    const tooMany = () => Object.assign(Object.create(null) as object, { $metadata: { httpStatusCode: 429 }, message: 'Slow down' });
    const { outcome } = await run(lambdaContext(4_000), { action: 'iam:GetRole', resource: 'role r' }, always(tooMany));

    expect((outcome as Error).name).toBe('Error');
    expect((outcome as Error).message).toMatch(/^iam kept throttling GetRole on role r for 1\.0 s \(5 attempts; last answer: Slow down\)/);
    expect(retryLines().map((line) => line.error)).toEqual([undefined, undefined, undefined, undefined]);
  });

  test.each([
    ['S3', 's3:ListBucket'],
    ['Secrets Manager', 'secretsmanager:GetSecretValue'],
  ])('names %s by its name', async (service, action) => {
    const { outcome } = await run(lambdaContext(3_000), { action, resource: 'it' }, always(throttled));
    expect((outcome as Error).message).toMatch(new RegExp(`^${service} kept throttling ${action.split(':')[1]} on it for 0\\.0 s \\(1 attempt;`));
  });

  test.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'broken'],
  ])('a failure that is not an error object (%s) is thrown as it came', async (_name, thrown) => {
    const { attemptsAt, outcome } = await run(lambdaContext(60_000), CALL, always(() => thrown));
    expect(attemptsAt).toEqual([0]);
    expect(outcome).toBe(thrown);
  });
});

describe('the event\'s deadline, on a fake clock', () => {
  beforeEach(useFakeClock);

  /** A request that never answers by itself; it records the signal it was given. */
  function hanging() {
    const signals: AbortSignal[] = [];
    const request = (signal: AbortSignal) => {
      signals.push(signal);
      return new Promise<string>(() => undefined);
    };
    return { signals, request };
  }

  test('a call that does not answer is abandoned when ordinary calls must end, and its signal aborts the SDK\'s request', async () => {
    const { signals, request } = hanging();
    const start = Date.now();

    const error = await failureOf(onFakeClock(runEvent(lambdaContext(4_000), () => callAws(CALL, request))));

    expect(Date.now() - start).toBe(1_000);
    expect(error.name).toBe('DeadlineExceeded');
    expect(error.message).toBe('Lightsail did not answer GetBuckets on Lightsail bucket "my-bucket" within the event\'s time (1.0 s, ' +
      "the SDK's own retries included); the rest of the function's time was kept to report the failure and clean up");
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
    expect(signals[0].reason).toBe(error);
  });

  test('a clean-up call may run until 0.5 s before the function\'s end', async () => {
    const { request } = hanging();
    const start = Date.now();

    const error = await failureOf(onFakeClock(runEvent(lambdaContext(4_000), () => cleanUp(() => callAws({ ...CALL, action: 'secretsmanager:GetSecretValue' }, request)))));

    expect(Date.now() - start).toBe(3_500);
    expect(error.message).toMatch(/^Secrets Manager did not answer GetSecretValue on Lightsail bucket "my-bucket" within the event's time \(3\.5 s, /);
  });

  test('the time counts from the call\'s first attempt, throttled retries included', async () => {
    let attempts = 0;
    const request = (signal: AbortSignal) => {
      attempts++;
      return attempts < 3 ? Promise.reject(throttled()) : new Promise<string>((_answer, fail) => signal.addEventListener('abort', () => fail(new Error('aborted'))));
    };

    const error = await failureOf(onFakeClock(runEvent(lambdaContext(4_000), () => callAws(CALL, request))));

    expect(attempts).toBe(3);
    expect(error.message).toContain('within the event\'s time (1.0 s,');
  });

  test('an answer in time leaves no timer behind, and its signal is never aborted', async () => {
    const signals: AbortSignal[] = [];

    expect(await runEvent(lambdaContext(60_000), () => callAws(CALL, async (signal) => {
      signals.push(signal);
      return 'done';
    }))).toBe('done');

    expect(jest.getTimerCount()).toBe(0);
    expect(signals[0].aborted).toBe(false);
  });

  test('phaseTimeLeft is the time until the current phase must end', async () => {
    const left = await runEvent(lambdaContext(10_000), async () => [phaseTimeLeft(), await cleanUp(async () => phaseTimeLeft())]);
    // 10 s: the reserve is 3 s; a clean-up may use it up to 0.5 s before the end.
    expect(left).toEqual([7_000, 9_500]);
  });
});
