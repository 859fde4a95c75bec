import { LightsailClient } from '@aws-sdk/client-lightsail';
import type { RetryErrorType, RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { retryStrategyWithoutThrottling, sdkClientConfig, sdkClientConfigWithoutRetries } from '../../lambda/sdk-config';

/** How many attempts the strategy allows for one request that keeps failing with `errorType`. */
async function attemptsAllowed(strategy: RetryStrategyV2, errorType: RetryErrorType): Promise<number> {
  let token = await strategy.acquireInitialRetryToken('lightsail');
  for (let attempts = 1; attempts < 100; attempts++) {
    try {
      token = await strategy.refreshRetryTokenForRetry(token as StandardRetryToken, { errorType });
    } catch {
      return attempts;
    }
  }
  return Infinity;
}

// The standard strategy waits a random backoff inside each retry: none here.
beforeEach(() => jest.spyOn(Math, 'random').mockReturnValue(0));
afterEach(() => jest.restoreAllMocks());

describe('retryStrategyWithoutThrottling', () => {
  // The SDK classes 500, 502, 503, 504, timeouts and lost connections as transient.
  test.each([1, 2, 4])('allows %i attempt(s) after transient failures', async (maxAttempts) => {
    expect(await attemptsAllowed(retryStrategyWithoutThrottling(maxAttempts), 'TRANSIENT')).toBe(maxAttempts);
  });

  test('refuses throttling at once, saying who retries it', async () => {
    const strategy = retryStrategyWithoutThrottling(4);
    const token = await strategy.acquireInitialRetryToken('lightsail');
    await expect(strategy.refreshRetryTokenForRetry(token as StandardRetryToken, { errorType: 'THROTTLING' }))
      .rejects.toThrow('Throttling is retried by the handler, within the time of the event');
  });

  test('a success gives back what its retries cost, so that a warm function keeps its retries', async () => {
    // The standard strategy starts with 500 tokens and takes 5 per retry: 150 retried requests would
    // exhaust it if successes did not return them.
    const strategy = retryStrategyWithoutThrottling(4);
    for (let request = 0; request < 150; request++) {
      const token = await strategy.acquireInitialRetryToken('lightsail');
      const retried = await strategy.refreshRetryTokenForRetry(token as StandardRetryToken, { errorType: 'TRANSIENT' });
      strategy.recordSuccess(retried as StandardRetryToken);
    }
    expect(await attemptsAllowed(strategy, 'TRANSIENT')).toBe(4);
  });
});

describe('the clients\' settings', () => {
  async function settingsOf(config: object): Promise<{ attempts: number; requestHandler: Record<string, unknown> }> {
    const client = new LightsailClient({ ...config, region: 'us-east-1' });
    const strategy = await (client.config.retryStrategy as () => Promise<RetryStrategyV2>)();
    const requestHandler = await (client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> }).configProvider;
    client.destroy();
    return { attempts: await attemptsAllowed(strategy, 'TRANSIENT'), requestHandler };
  }

  // A hung request fails after 5 s (3 s to connect), inside the function's time, so that the handler can still clean up.
  const TIMEOUTS = { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true };

  test('calls that are safe to repeat: 4 attempts, and timeouts that fail the request', async () => {
    const settings = await settingsOf(sdkClientConfig());
    expect(settings.attempts).toBe(4);
    expect(settings.requestHandler).toEqual(expect.objectContaining(TIMEOUTS));
  });

  test('CreateBucketAccessKey and S3: 1 attempt, and the same timeouts', async () => {
    const settings = await settingsOf(sdkClientConfigWithoutRetries());
    expect(settings.attempts).toBe(1);
    expect(settings.requestHandler).toEqual(expect.objectContaining(TIMEOUTS));
  });
});
