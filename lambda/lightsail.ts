import {
  CreateBucketAccessKeyCommand,
  DeleteBucketAccessKeyCommand,
  GetBucketAccessKeysCommand,
  GetBucketsCommand,
  LightsailClient,
} from '@aws-sdk/client-lightsail';
import { isThrottlingError } from '@smithy/core/retry';
import { SDK_CLIENT_CONFIG } from './sdk-config';
import { describeError, isLightsailNotFound } from './sdk-errors';

/** Lightsail allows this many access keys per bucket. */
export const MAX_ACCESS_KEYS_PER_BUCKET = 2;

const lightsail = new LightsailClient(SDK_CLIENT_CONFIG);
// CreateBucketAccessKey is not idempotent: an SDK retry after a lost response (5xx, timeout) would
// make a second key and orphan the first. This client never retries; createAccessKey retries only
// throttling, which Lightsail answers before doing anything.
const lightsailWithoutRetries = new LightsailClient({ ...SDK_CLIENT_CONFIG, maxAttempts: 1 });
const CREATE_ATTEMPTS_WHEN_THROTTLED = 4;

export interface BucketState {
  /** The bucket's endpoint, as Lightsail reports it. */
  readonly url?: string;
  /** Ids of the bucket's existing access keys. */
  readonly accessKeyIds: string[];
}

export interface NewAccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

function missingBucket(bucketName: string): Error {
  return new Error(`Lightsail bucket "${bucketName}" does not exist in ${process.env.AWS_REGION ?? 'this region'}`);
}

function readFailure(bucketName: string, error: unknown): Error {
  return isLightsailNotFound(error)
    ? missingBucket(bucketName)
    : new Error(`Could not read Lightsail bucket "${bucketName}": ${describeError(error)}`);
}

/** Confirms that the bucket exists and reads its URL and access key ids. */
export async function readBucket(bucketName: string): Promise<BucketState> {
  const [url, accessKeyIds] = await Promise.all([
    readBucketUrl(bucketName),
    listAccessKeyIds(bucketName).catch((error: unknown) => {
      throw readFailure(bucketName, error);
    }),
  ]);
  return { url, accessKeyIds };
}

async function readBucketUrl(bucketName: string): Promise<string | undefined> {
  let buckets;
  try {
    ({ buckets } = await lightsail.send(new GetBucketsCommand({ bucketName })));
  } catch (error) {
    throw readFailure(bucketName, error);
  }
  const bucket = buckets?.find((candidate) => candidate.name === bucketName);
  if (!bucket) {
    throw missingBucket(bucketName);
  }
  return bucket.url;
}

async function listAccessKeyIds(bucketName: string): Promise<string[]> {
  const { accessKeys } = await lightsail.send(new GetBucketAccessKeysCommand({ bucketName }));
  return (accessKeys ?? []).map((key) => key.accessKeyId).filter((id): id is string => typeof id === 'string');
}

/** Whether the key still exists. A missing bucket means a missing key. */
export async function accessKeyExists(bucketName: string, accessKeyId: string): Promise<boolean> {
  try {
    return (await listAccessKeyIds(bucketName)).includes(accessKeyId);
  } catch (error) {
    if (isLightsailNotFound(error)) {
      return false;
    }
    throw new Error(`Could not list the access keys of Lightsail bucket "${bucketName}": ${describeError(error)}`);
  }
}

/**
 * Creates a key. `knownAccessKeyIds` are the bucket's keys before the call: after a failure, any
 * other key that appeared may have been made by this call, with a secret nobody received. It is
 * named in the error, not deleted, since someone else may have made it meanwhile.
 *
 * A key that comes back without its secret is useless and nobody could ever hold it, so it is
 * deleted again before failing.
 */
export async function createAccessKey(bucketName: string, knownAccessKeyIds: string[]): Promise<NewAccessKey> {
  let created;
  try {
    created = await sendCreateRetryingThrottling(bucketName);
  } catch (error) {
    throw new Error(
      `Could not create an access key for Lightsail bucket "${bucketName}": ${describeError(error)}` +
      await appearedKeysNotice(bucketName, knownAccessKeyIds),
    );
  }
  const accessKeyId = created.accessKey?.accessKeyId;
  const secretAccessKey = created.accessKey?.secretAccessKey;
  if (accessKeyId && secretAccessKey) {
    return { accessKeyId, secretAccessKey };
  }
  if (!accessKeyId) {
    throw new Error(`Lightsail returned no access key id for bucket "${bucketName}"`);
  }
  await deleteAccessKey(bucketName, accessKeyId);
  throw new Error(
    `Lightsail returned access key ${accessKeyId} for bucket "${bucketName}" without its secret access key; the key was deleted again`,
  );
}

async function sendCreateRetryingThrottling(bucketName: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lightsailWithoutRetries.send(new CreateBucketAccessKeyCommand({ bucketName }));
    } catch (error) {
      if (attempt >= CREATE_ATTEMPTS_WHEN_THROTTLED || !isThrottlingError(error as Parameters<typeof isThrottlingError>[0])) {
        throw error;
      }
      await new Promise((wake) => setTimeout(wake, Math.random() * 100 * 2 ** attempt));
    }
  }
}

async function appearedKeysNotice(bucketName: string, knownAccessKeyIds: string[]): Promise<string> {
  let appeared: string[];
  try {
    appeared = (await listAccessKeyIds(bucketName)).filter((id) => !knownAccessKeyIds.includes(id));
  } catch (error) {
    return `. Could not check for a key made by the failed call (${describeError(error)}): look for an unknown key on the bucket`;
  }
  if (appeared.length === 0) {
    return '';
  }
  const commands = appeared.map((id) => `aws lightsail delete-bucket-access-key --bucket-name ${bucketName} --access-key-id ${id}`);
  return `. Key ${appeared.join(', ')} appeared on the bucket during the failed call: unless someone else made it, ` +
    `this call did and nobody holds its secret; delete it with: ${commands.join('; ')}`;
}

/**
 * Deletes a new key whose secret could not be stored, since nobody could ever use it. When that
 * fails too, throws an error that starts with `reason` and says how to delete the key by hand.
 */
export async function deleteUnstoredKey(bucketName: string, accessKeyId: string, reason: string): Promise<void> {
  try {
    await deleteAccessKey(bucketName, accessKeyId);
  } catch (cleanupError) {
    throw new Error(
      `${reason}. Deleting the new key also failed (${describeError(cleanupError)}); delete it with: ` +
      `aws lightsail delete-bucket-access-key --bucket-name ${bucketName} --access-key-id ${accessKeyId}`,
    );
  }
}

/** Deletes the key. Returns false when the key or its bucket was already gone. */
export async function deleteAccessKey(bucketName: string, accessKeyId: string): Promise<boolean> {
  try {
    await lightsail.send(new DeleteBucketAccessKeyCommand({ bucketName, accessKeyId }));
    return true;
  } catch (error) {
    if (isLightsailNotFound(error)) {
      return false;
    }
    throw new Error(
      `Could not delete access key ${accessKeyId} of Lightsail bucket "${bucketName}": ${describeError(error)}`,
    );
  }
}
