/**
 * The one way a key is made, for the custom resource and for rotation: free a slot, create the key,
 * store it under the event's token, or delete it again. So no key outlives its event without a
 * secret version that holds it; only between CreateBucketAccessKey and PutSecretValue does a key
 * exist that no version holds.
 *
 * The secret access key exists in this process only between those two calls. It is never logged,
 * returned or put into an error message.
 */
import type { StoredAccessKey, VersionStage } from '../lib/contract';
import { SlotRules, freeSlot } from './key-slots';
import { NewAccessKey, createAccessKey, deleteUnstoredKey, readBucket } from './lightsail';
import { logStep } from './log';
import { cleanUp } from './retry';
import { readVersion, storeAccessKey } from './secret-store';
import { describeError } from './sdk-errors';

export interface MintRequest {
  readonly bucketName: string;
  readonly secretArn: string;
  /**
   * The ClientRequestToken of the version that receives the key: the event's RequestId, or the
   * rotation's token. An event delivered twice finds its key under it.
   */
  readonly token: string;
  /** The stage of the new version. Default: AWSCURRENT (rotation stores AWSPENDING). */
  readonly stage?: VersionStage;
  /** Which held keys may be deleted to make room. */
  readonly slots?: SlotRules;
  /** What the new version holds: the key with its bucket, region, URL and serial. */
  readonly valueOf: (key: NewAccessKey, bucketUrl: string | undefined) => StoredAccessKey;
}

/** Makes a key of the bucket and stores it under the token; returns the id of the key the token's version holds. */
export async function mintKey(request: MintRequest): Promise<string> {
  const { bucketName, secretArn, token } = request;
  // One round of reads: the bucket's are started with the idempotency read, and used only after it.
  const bucketRead = readBucket(bucketName);
  bucketRead.catch(() => undefined); // Reported when used.
  // An event may be delivered twice (the Provider framework retries an invoke): the first run may have finished.
  const stored = await readVersion(secretArn, { VersionId: token });
  const bucket = await bucketRead;
  if (stored?.accessKeyId) {
    return alreadyStored(request, stored.accessKeyId, bucket.accessKeyIds);
  }
  // After rotations a replacement finds the bucket full: the key only AWSPREVIOUS holds makes room.
  const accessKeyIds = await freeSlot(bucketName, bucket.accessKeyIds, secretArn, request.slots);
  const key = await createAccessKey(bucketName, accessKeyIds);
  logStep('key-created', { bucketName, accessKeyId: key.accessKeyId });
  try {
    await storeAccessKey(secretArn, token, request.valueOf(key, bucket.url), request.stage);
  } catch (error) {
    return cleanUp(() => afterFailedStore(request, key.accessKeyId, error));
  }
  logStep('key-stored', { bucketName, accessKeyId: key.accessKeyId, secretArn });
  return key.accessKeyId;
}

/** A version under this token exists: the event ran before. Its key is the answer, if it still exists. */
function alreadyStored(request: MintRequest, accessKeyId: string, keysOnBucket: string[]): string {
  const { bucketName, secretArn, token } = request;
  if (!keysOnBucket.includes(accessKeyId)) {
    throw new Error(
      `Version ${token} of secret ${secretArn} holds access key ${accessKeyId}, which no longer exists on Lightsail bucket ` +
      `"${bucketName}" (deleted outside this stack?). This request cannot store another key under the same token: ` +
      'deploy again, which sends a new request',
    );
  }
  logStep('create-already-done', { bucketName, accessKeyId, requestId: token });
  return accessKeyId;
}

/**
 * A store that failed may have succeeded (its answer lost), or lost to a concurrent run of the same
 * event (same token, another value: ResourceExistsException). The version under the token tells:
 * our key there is kept; another key there is the answer, and ours goes; no version, ours goes and
 * the event fails with a reason that says what was left behind.
 */
async function afterFailedStore(request: MintRequest, accessKeyId: string, cause: unknown): Promise<string> {
  const { bucketName, secretArn, token } = request;
  const reason = describeError(cause);
  const stored = await readVersion(secretArn, { VersionId: token }).catch((error: unknown) => error as Error);
  const storedKey = stored instanceof Error ? undefined : stored?.accessKeyId;
  if (storedKey === accessKeyId) {
    logStep('key-stored-despite-error', { bucketName, accessKeyId, secretArn });
    return accessKeyId;
  }
  await deleteUnstoredKey(bucketName, accessKeyId, reason);
  logStep('key-deleted-after-store-failure', { bucketName, accessKeyId });
  if (storedKey) {
    logStep('concurrent-run-stored', { bucketName, accessKeyId: storedKey, requestId: token });
    return storedKey;
  }
  if (stored instanceof Error) {
    throw new Error(
      `${reason}. The new key ${accessKeyId} was deleted again, but checking secret ${secretArn} failed ` +
      `(${describeError(stored)}); make sure its AWSCURRENT version holds a key that exists.`,
    );
  }
  throw new Error(`${reason}. The new key ${accessKeyId} was deleted again; nothing else changed.`);
}
