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
import { restorePreviousIfCurrentHolds } from './current-key';
import { freeSlot, heldVersions } from './key-slots';
import { NewAccessKey, bucketAccessKeyIds, createAccessKey, deleteUnstoredKey, readBucket } from './lightsail';
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
  /** A version whose key is never deleted to make room (the rotation's own). */
  readonly keepVersionId?: string;
  /** What the new version holds: the key with its bucket, region, URL and serial. */
  readonly valueOf: (key: NewAccessKey, bucketUrl: string | undefined) => StoredAccessKey;
}

/** Makes a key of the bucket and stores it under the token; returns its id. */
export async function mintKey(request: MintRequest): Promise<string> {
  const { bucketName, secretArn, token } = request;
  // One round of reads: the bucket's are started with the idempotency read, and used only after it.
  const bucketRead = readBucket(bucketName);
  bucketRead.catch(() => undefined); // Reported below, unless this event's key already exists.
  // An event may be delivered twice (the Provider framework retries an invoke): the first run may have finished.
  const stored = await readVersion(secretArn, { VersionId: token });
  if (stored?.accessKeyId) {
    logStep('create-already-done', { bucketName, accessKeyId: stored.accessKeyId, requestId: token });
    return stored.accessKeyId;
  }

  const bucket = await bucketRead;
  // After rotations a replacement finds the bucket full: the key only AWSPREVIOUS holds makes room.
  const accessKeyIds = await freeSlot(bucketName, bucket.accessKeyIds, secretArn, request.keepVersionId);
  const key = await createAccessKey(bucketName, accessKeyIds);
  logStep('key-created', { bucketName, accessKeyId: key.accessKeyId });
  try {
    await storeAccessKey(secretArn, token, request.valueOf(key, bucket.url), request.stage);
  } catch (error) {
    return cleanUp(() => deleteAgain(request, key.accessKeyId, error));
  }
  logStep('key-stored', { bucketName, accessKeyId: key.accessKeyId, secretArn });
  return key.accessKeyId;
}

/**
 * Undoes a create whose key could not be stored: nobody holds its secret, so the key must go.
 * Always throws, with a reason that says what was left behind.
 */
async function deleteAgain(request: MintRequest, accessKeyId: string, cause: unknown): Promise<never> {
  const { bucketName, secretArn } = request;
  const reason = describeError(cause);
  await deleteUnstoredKey(bucketName, accessKeyId, reason);
  logStep('key-deleted-after-store-failure', { bucketName, accessKeyId });
  try {
    // The store may have succeeded although its answer was lost: never leave a deleted key current.
    const held = await heldVersions(secretArn);
    await restorePreviousIfCurrentHolds(secretArn, accessKeyId, held, bucketAccessKeyIds);
  } catch (restoreError) {
    throw new Error(
      `${reason}. The new key ${accessKeyId} was deleted again, but checking secret ${secretArn} failed ` +
      `(${describeError(restoreError)}); make sure its AWSCURRENT version holds a key that exists.`,
    );
  }
  throw new Error(`${reason}. The new key ${accessKeyId} was deleted again; nothing else changed.`);
}
