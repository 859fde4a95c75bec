import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { StoredAccessKey } from '../lib/contract';
import { callAws, isThrottled } from './retry';
import { sdkClientConfigWithoutRetries } from './sdk-config';
import { describeError } from './sdk-errors';

/** A new key can take a few seconds to be accepted everywhere. Throttling is retried by callAws. */
const ATTEMPTS = 5;
const FIRST_WAIT_MS = 500;

/**
 * Proves that a key works: a ListObjectsV2 request on its bucket, signed with the key itself, the
 * way an application would use it. The S3 endpoint follows the standard AWS_ENDPOINT_URL_S3.
 */
export async function proveKeyWorks(key: StoredAccessKey): Promise<void> {
  const s3 = new S3Client({
    // The loop below retries every failure while the key propagates.
    ...sdkClientConfigWithoutRetries(),
    region: key.region,
    credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
  });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await callAws({ action: 's3:ListBucket', resource: `Lightsail bucket "${key.bucketName}"`, retryDenied: false },
          (abortSignal) => s3.send(new ListObjectsV2Command({ Bucket: key.bucketName, MaxKeys: 1 }), { abortSignal }));
        return;
      } catch (error) {
        // Throttling was retried by callAws for as long as the event's time allows.
        if (attempt >= ATTEMPTS || isThrottled(error)) {
          throw new Error(`Access key ${key.accessKeyId} cannot list Lightsail bucket "${key.bucketName}": ${describeError(error)}`);
        }
        await new Promise((wake) => setTimeout(wake, FIRST_WAIT_MS * 2 ** (attempt - 1)));
      }
    }
  } finally {
    s3.destroy();
  }
}
