import {
  CreateBucketAccessKeyCommand,
  DeleteBucketAccessKeyCommand,
  GetBucketAccessKeysCommand,
  GetBucketsCommand,
  LightsailClient,
  Operation,
} from '@aws-sdk/client-lightsail';
import { followOperations } from './operations';
import { callAws, cleanUp, refusedBeforeActing } from './retry';
import { sdkClientConfig, sdkClientConfigWithoutRetries } from './sdk-config';
import { describeError, isLightsailNotFound } from './sdk-errors';

const lightsail = new LightsailClient(sdkClientConfig());
// CreateBucketAccessKey is not idempotent: an SDK retry after a lost response (5xx, timeout) would
// make a second key and orphan the first. This client never retries by itself; callAws retries
// only throttling and access denied, which Lightsail answers before doing anything.
const lightsailWithoutRetries = new LightsailClient(sdkClientConfigWithoutRetries());

function onBucket(bucketName: string): string {
  return `Lightsail bucket "${bucketName}"`;
}

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
    ({ buckets } = await callAws({ action: 'lightsail:GetBuckets', resource: onBucket(bucketName) },
      (abortSignal) => lightsail.send(new GetBucketsCommand({ bucketName }), { abortSignal })));
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
  const { accessKeys } = await callAws({ action: 'lightsail:GetBucketAccessKeys', resource: onBucket(bucketName) },
    (abortSignal) => lightsail.send(new GetBucketAccessKeysCommand({ bucketName }), { abortSignal }));
  // Stryker disable next-line ArrayDeclaration: a made-up entry in place of [] has no accessKeyId, so the filter drops it.
  return (accessKeys ?? []).map((key) => key.accessKeyId).filter((id): id is string => typeof id === 'string');
}

/** The ids of the bucket's keys; none when the bucket is gone. */
export async function bucketAccessKeyIds(bucketName: string): Promise<string[]> {
  try {
    return await listAccessKeyIds(bucketName);
  } catch (error) {
    if (isLightsailNotFound(error)) {
      // Stryker disable next-line ArrayDeclaration: callers only ask whether a real key id is in the list; a made-up entry never is.
      return [];
    }
    throw new Error(`Could not list the access keys of Lightsail bucket "${bucketName}": ${describeError(error)}`);
  }
}

/**
 * Creates a key. `knownAccessKeyIds` are the bucket's keys before the call: after a failure that
 * may have acted (5xx, timeout), any other key that appeared may have been made by this call, with
 * a secret nobody received. It is named in the error, not deleted: it may be a sibling's.
 *
 * A key that comes back without its secret is useless and nobody could ever hold it, so it is
 * deleted again before failing.
 */
export async function createAccessKey(bucketName: string, knownAccessKeyIds: string[]): Promise<NewAccessKey> {
  let created;
  try {
    created = await callAws({ action: 'lightsail:CreateBucketAccessKey', resource: onBucket(bucketName) },
      (abortSignal) => lightsailWithoutRetries.send(new CreateBucketAccessKeyCommand({ bucketName }), { abortSignal }));
  } catch (error) {
    // Throttled or denied, every attempt was refused before Lightsail acted: no key of ours exists.
    throw new Error(
      `Could not create an access key for Lightsail bucket "${bucketName}": ${describeError(error)}` +
      (refusedBeforeActing(error) ? '' : await appearedKeysNotice(bucketName, knownAccessKeyIds)),
    );
  }
  const accessKeyId = created.accessKey?.accessKeyId;
  const secretAccessKey = created.accessKey?.secretAccessKey;
  if (accessKeyId && secretAccessKey) {
    await followOrDelete(bucketName, accessKeyId, created.operations);
    return { accessKeyId, secretAccessKey };
  }
  if (!accessKeyId) {
    throw new Error(`Lightsail returned no access key id for bucket "${bucketName}"`);
  }
  await cleanUp(() => deleteAccessKey(bucketName, accessKeyId));
  throw new Error(
    `Lightsail returned access key ${accessKeyId} for bucket "${bucketName}" without its secret access key; the key was deleted again`,
  );
}

/** A key whose operation failed (or did not finish in time) is not made: it is deleted again, and the error names the operation. */
async function followOrDelete(bucketName: string, accessKeyId: string, operations: Operation[] | undefined): Promise<void> {
  try {
    await followOperations(lightsail, operations);
  } catch (error) {
    const reason = `Could not create an access key for Lightsail bucket "${bucketName}": ${describeError(error)}`;
    await deleteUnstoredKey(bucketName, accessKeyId, reason);
    throw new Error(`${reason}; the key ${accessKeyId} was deleted again`);
  }
}

async function appearedKeysNotice(bucketName: string, knownAccessKeyIds: string[]): Promise<string> {
  let appeared: string[];
  try {
    appeared = (await cleanUp(() => listAccessKeyIds(bucketName))).filter((id) => !knownAccessKeyIds.includes(id));
  } catch (error) {
    return `. Could not check for a key made by the failed call (${describeError(error)}): look for an unknown key on the bucket`;
  }
  if (appeared.length === 0) {
    return '';
  }
  const commands = appeared.map((id) => `aws lightsail delete-bucket-access-key --bucket-name ${bucketName} --access-key-id ${id}`);
  // CloudFormation creates resources in parallel: a sibling key of the same bucket may have
  // appeared at the same moment, so this cannot tell which key, if any, this call made.
  return `. Key ${appeared.join(', ')} appeared on the bucket during the failed call: it may belong to another ` +
    'resource created at the same time, or have been made by this call with a secret nobody received. ' +
    `If no secret of yours holds it, delete it with: ${commands.join('; ')}`;
}

/**
 * Deletes a new key whose secret could not be stored, since nobody could ever use it. When that
 * fails too, throws an error that starts with `reason` and says how to delete the key by hand.
 */
export async function deleteUnstoredKey(bucketName: string, accessKeyId: string, reason: string): Promise<void> {
  try {
    await cleanUp(() => deleteAccessKey(bucketName, accessKeyId));
  } catch (cleanupError) {
    throw new Error(
      `${reason}. Deleting the new key also failed (${describeError(cleanupError)}); delete it with: ` +
      `aws lightsail delete-bucket-access-key --bucket-name ${bucketName} --access-key-id ${accessKeyId}`,
    );
  }
}

/**
 * Deletes the key, and waits for Lightsail's operation to finish: only then is its slot free.
 * Returns false when the key or its bucket was already gone.
 */
export async function deleteAccessKey(bucketName: string, accessKeyId: string): Promise<boolean> {
  const failure = (error: unknown) => new Error(
    `Could not delete access key ${accessKeyId} of Lightsail bucket "${bucketName}": ${describeError(error)}`,
  );
  let answer;
  try {
    answer = await callAws({ action: 'lightsail:DeleteBucketAccessKey', resource: onBucket(bucketName) },
      (abortSignal) => lightsail.send(new DeleteBucketAccessKeyCommand({ bucketName, accessKeyId }), { abortSignal }));
  } catch (error) {
    if (isLightsailNotFound(error)) {
      return false;
    }
    throw failure(error);
  }
  // Not inside the try above: an operation that is not found must never read as a key already gone.
  await followOperations(lightsail, answer.operations).catch((error: unknown) => {
    throw failure(error);
  });
  return true;
}
