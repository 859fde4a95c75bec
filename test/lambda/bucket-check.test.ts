import type { RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { StoredAccessKey } from '../../lib/contract';
import { proveKeyWorks } from '../../lambda/bucket-check';
import { runEvent } from '../../lambda/retry';
import { lambdaContext } from './fixtures';

const s3 = mockClient(S3Client);
const KEY: StoredAccessKey = {
  accessKeyId: 'AKIAPENDING000000001',
  secretAccessKey: 'pending-secret/do-not-leak',
  bucketName: 'my-bucket',
  region: 'eu-west-3',
  bucketUrl: 'https://my-bucket.s3.eu-west-3.amazonaws.com/',
};

function notYet(): Error {
  return Object.assign(new Error('The AWS access key Id you provided does not exist in our records.'), { name: 'InvalidAccessKeyId' });
}

beforeEach(() => s3.reset());

/** proveKeyWorks inside an event of 5 minutes, as the rotation function calls it. */
function prove(): Promise<void> {
  return runEvent(lambdaContext(), () => proveKeyWorks(KEY));
}
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('proveKeyWorks', () => {
  test('signs one ListObjectsV2 of the key\'s bucket with the key itself, in the key\'s region, without SDK retries', async () => {
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });

    await prove();

    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input)).toEqual([{ Bucket: 'my-bucket', MaxKeys: 1 }]);
    const config = s3.commandCalls(ListObjectsV2Command)[0].thisValue.config;
    expect(await config.credentials()).toEqual(expect.objectContaining({ accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey }));
    expect(await config.region()).toBe('eu-west-3');
    // Its own loop waits for the key to propagate: the SDK must not multiply the attempts.
    const strategy = await (config.retryStrategy as () => Promise<RetryStrategyV2>)();
    const token = await strategy.acquireInitialRetryToken('');
    await expect(strategy.refreshRetryTokenForRetry(token as StandardRetryToken, { errorType: 'TRANSIENT' })).rejects.toThrow();
    await expect(strategy.refreshRetryTokenForRetry(token as StandardRetryToken, { errorType: 'SERVER_ERROR' })).rejects.toThrow();
  });

  test('waits 0.5, 1, 2 and 4 s between five attempts (about 8 s for a new key to propagate)', async () => {
    jest.useFakeTimers();
    s3.on(ListObjectsV2Command).rejects(notYet());
    const attempts = () => s3.commandCalls(ListObjectsV2Command).length;

    const outcome = prove().then(() => 'worked', (error: Error) => error.message);
    const seen: number[] = [];
    await jest.advanceTimersByTimeAsync(0);
    seen.push(attempts());
    for (const wait of [500, 1000, 2000, 4000]) {
      await jest.advanceTimersByTimeAsync(wait - 1);
      seen.push(attempts());
      await jest.advanceTimersByTimeAsync(1);
      seen.push(attempts());
    }

    expect(seen).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5]);
    expect(await outcome).toBe(
      `Access key ${KEY.accessKeyId} cannot list Lightsail bucket "my-bucket": InvalidAccessKeyId: The AWS access key Id you provided does not exist in our records.`);
    expect(attempts()).toBe(5);
  });

  test('a denied key is not retried by the handler\'s IAM window: the same five attempts, 0.5 to 4 s apart', async () => {
    jest.useFakeTimers();
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const start = Date.now();
    const attemptsAt: number[] = [];
    s3.on(ListObjectsV2Command).callsFake(async () => {
      attemptsAt.push(Date.now() - start);
      throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    });

    const outcome = prove().then(() => 'worked', (error: Error) => error.message);
    await jest.advanceTimersByTimeAsync(60_000);

    expect(await outcome).toBe(`Access key ${KEY.accessKeyId} cannot list Lightsail bucket "my-bucket": AccessDenied: Access Denied`);
    expect(attemptsAt).toEqual([0, 500, 1_500, 3_500, 7_500]);
  });

  test('succeeds on the last attempt', async () => {
    jest.useFakeTimers();
    s3.on(ListObjectsV2Command).rejectsOnce(notYet()).rejectsOnce(notYet()).rejectsOnce(notYet()).rejectsOnce(notYet()).resolves({});

    const outcome = prove().then(() => 'worked', (error: Error) => error.message);
    await jest.advanceTimersByTimeAsync(7_500);

    expect(await outcome).toBe('worked');
    expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 5);
  });

  test('releases the client\'s connections whether the key works or not', async () => {
    const destroy = jest.spyOn(S3Client.prototype, 'destroy');
    s3.on(ListObjectsV2Command).resolves({});
    await prove();
    expect(destroy).toHaveBeenCalledTimes(1);

    jest.useFakeTimers();
    s3.on(ListObjectsV2Command).rejects(notYet());
    const outcome = prove().catch(() => undefined);
    await jest.advanceTimersByTimeAsync(10_000);
    await outcome;
    expect(destroy).toHaveBeenCalledTimes(2);
  });
});
