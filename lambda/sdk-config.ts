/**
 * Settings for every SDK client of the handler. Endpoints and region come from the standard
 * variables (AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>), as for any SDK client.
 *
 * The SDK's standard retry strategy retries 5xx answers, timeouts and lost connections a few times.
 * It never retries throttling: retry.ts does, for as long as the event's time allows, which the
 * strategy cannot know (the clients outlive the event) and its retry quota (500 tokens, 5 a
 * throttled retry) would cut short under a burst. A request that hangs is abandoned after
 * `requestTimeout`, so that a call fails inside the function's own timeout and the handler can
 * still clean up after itself.
 */
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';

/** A standard strategy with `maxAttempts` that refuses throttling, which retry.ts retries. */
export function retryStrategyWithoutThrottling(maxAttempts: number): RetryStrategyV2 {
  const standard = new StandardRetryStrategy(maxAttempts);
  return {
    acquireInitialRetryToken: (scope: string) => standard.acquireInitialRetryToken(scope),
    refreshRetryTokenForRetry: async (token: StandardRetryToken, errorInfo: RetryErrorInfo) => {
      if (errorInfo.errorType === 'THROTTLING') {
        throw new Error('Throttling is retried by the handler, within the time of the event');
      }
      return standard.refreshRetryTokenForRetry(token, errorInfo);
    },
    recordSuccess: (token: StandardRetryToken) => standard.recordSuccess(token),
  };
}

const REQUEST_HANDLER = {
  connectionTimeout: 3_000,
  requestTimeout: 5_000,
  // Without it, a request past requestTimeout only logs a warning and goes on hanging.
  throwOnRequestTimeout: true,
};

/** For calls that are safe to repeat: up to 4 attempts after a 5xx, a timeout or a lost connection. */
export function sdkClientConfig() {
  return { retryStrategy: retryStrategyWithoutThrottling(4), requestHandler: REQUEST_HANDLER };
}

/**
 * For CreateBucketAccessKey, which is not idempotent: a retry after a lost answer (5xx, timeout)
 * would make a second key and orphan the first. One attempt; retry.ts retries only the answers
 * given before Lightsail acts (throttling, access denied). `maxAttempts` alone would not do: a
 * `retryStrategy` overrides it.
 */
export function sdkClientConfigWithoutRetries() {
  return { retryStrategy: retryStrategyWithoutThrottling(1), requestHandler: REQUEST_HANDLER };
}
