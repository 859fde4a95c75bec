/**
 * Settings for every SDK client of the handler. Endpoints and region come from the standard
 * variables (AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>), as for any SDK client.
 *
 * Throttling and 5xx answers are retried by the SDK's standard retry strategy. A request that hangs
 * is abandoned after `requestTimeout` and retried, so that a call fails inside the function's own
 * timeout and the handler can still clean up after itself.
 */
export const SDK_CLIENT_CONFIG = {
  maxAttempts: 4,
  requestHandler: {
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    // Without it, a request past requestTimeout only logs a warning and goes on hanging.
    throwOnRequestTimeout: true,
  },
};
