import { LightsailClient } from '@aws-sdk/client-lightsail';
import type { RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { callAws, startEvent } from '../../lambda/retry';
import { sdkClientConfig, sdkClientConfigWithoutRetries } from '../../lambda/sdk-config';
import { accessDenied, lambdaContext, refused, throttled } from './fixtures';

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
  test('retries throttling until the call succeeds', async () => {
    startEvent(lambdaContext(60_000));
    const request = requestFailing(throttled(), throttled(), throttled());

    expect(await callAws(CALL, request)).toBe('done');
    expect(request).toHaveBeenCalledTimes(4);
  });

  test('throws any other error at once, as it came', async () => {
    startEvent(lambdaContext(60_000));
    const error = refused('no such thing');
    const request = requestFailing(error);

    expect(await failureOf(callAws(CALL, request))).toBe(error);
    expect(request).toHaveBeenCalledTimes(1);
  });

  test('gives up on throttling when the reserve begins, naming the service, the time and the attempts', async () => {
    // 3.4 s: the reserve is 3 s, so throttling is retried for 0.4 s.
    const context = lambdaContext(3_400);
    startEvent(context);
    const request = jest.fn(async () => {
      throw throttled();
    });

    const error = await failureOf(callAws(CALL, request));

    expect(error.name).toBe('ThrottlingException');
    const attempts = request.mock.calls.length;
    expect(attempts).toBeGreaterThan(1);
    expect(error.message).toMatch(new RegExp(
      `^Lightsail kept throttling GetBuckets on Lightsail bucket "my-bucket" for 0\\.[3-9] s \\(${attempts} attempts; ` +
      'last answer: ThrottlingException: Rate exceeded\\)'));
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(2_500);
  });

  test('a compensating call retries throttling into the reserve', async () => {
    startEvent(lambdaContext(3_400));
    await new Promise((wake) => setTimeout(wake, 450)); // past the end of ordinary retries
    const request = requestFailing(throttled(), throttled());

    expect(await callAws({ ...CALL, compensating: true }, request)).toBe('done');
    expect(request).toHaveBeenCalledTimes(3);
  });

  test.each([
    ['AccessDeniedException', accessDenied],
    ['AccessDenied', () => Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })],
    ['UnauthenticatedException', () => Object.assign(new Error('not authenticated'), { name: 'UnauthenticatedException' })],
  ])('retries %s while the IAM window lasts', async (_name, denied) => {
    startEvent(lambdaContext(60_000));
    const request = requestFailing(denied(), denied());

    expect(await callAws(CALL, request)).toBe('done');
    expect(request).toHaveBeenCalledTimes(3);
  });

  test('the IAM window counts from the start of the event, for every call', async () => {
    // 4 s: the window is min(60 s, 2 s) and ends with ordinary retries, at 1 s.
    const context = lambdaContext(4_000);
    startEvent(context);
    const first = jest.fn(async () => {
      throw accessDenied();
    });
    const firstError = await failureOf(callAws(CALL, first));
    expect(first.mock.calls.length).toBeGreaterThan(1);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(2_500);

    const second = requestFailing(accessDenied(), accessDenied());
    const secondError = await failureOf(callAws({ action: 'secretsmanager:GetSecretValue', resource: 'secret arn:example' }, second));

    expect(second).toHaveBeenCalledTimes(1);
    expect(firstError.name).toBe('AccessDeniedException');
    expect(firstError.message).toMatch(/^GetBuckets on Lightsail bucket "my-bucket" was denied for 1\.\d s \(\d+ attempts; last answer: AccessDeniedException: User is not authorized\)\./);
    expect(firstError.message).toContain('The handler\'s role needs lightsail:GetBuckets on Lightsail bucket "my-bucket"');
    expect(firstError.message).toContain('IAM may still have been propagating');
    expect(secondError.message).toMatch(/^GetSecretValue on secret arn:example was denied for 0\.0 s \(1 attempt; /);
    expect(secondError.message).toContain('needs secretsmanager:GetSecretValue on secret arn:example');
  });

  test('does not retry a denial when told so (a call signed with a new key)', async () => {
    startEvent(lambdaContext(60_000));
    const error = accessDenied();
    const request = requestFailing(error);

    expect(await failureOf(callAws({ ...CALL, retryDenied: false }, request))).toBe(error);
    expect(request).toHaveBeenCalledTimes(1);
  });

  describe('without a Lambda context', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    async function secondsUntilGivingUp(error: () => Error): Promise<number> {
      startEvent();
      const failure = failureOf(callAws(CALL, async () => {
        throw error();
      }));
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      return Number(/ for (\d+\.\d) s /.exec((await failure).message)![1]);
    }

    test('throttling is retried for 5 minutes less the 45 s reserve', async () => {
      const seconds = await secondsUntilGivingUp(throttled);
      expect(seconds).toBeGreaterThanOrEqual(254.9);
      expect(seconds).toBeLessThanOrEqual(255);
    });

    test('access denied is retried for 60 s', async () => {
      const seconds = await secondsUntilGivingUp(accessDenied);
      expect(seconds).toBeGreaterThanOrEqual(59.9);
      expect(seconds).toBeLessThanOrEqual(60);
    });
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
