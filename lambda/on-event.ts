/**
 * onEvent handler of the LightsailBucketAccessKey custom resource (aws-cdk-lib Provider framework).
 *
 * The secret access key exists in this process only between CreateBucketAccessKey and
 * PutSecretValue. It is never logged, returned or put into an error message.
 */
import type {
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceUpdateEvent,
  Context,
} from 'aws-lambda';
import {
  ACCESS_KEY_ID_PATTERN,
  ATTRIBUTE_ACCESS_KEY_ID,
  AccessKeyResourceProperties,
  REPLACING_PROPERTIES,
} from '../lib/contract';
import { HeldVersion, freeSlot, heldVersions } from './key-slots';
import { logStep } from './log';
import { bucketAccessKeyIds, createAccessKey, deleteAccessKey, deleteUnstoredKey, readBucket } from './lightsail';
import { startEvent } from './retry';
import { makeCurrent, readVersion, storeAccessKey } from './secret-store';
import { describeError } from './sdk-errors';

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** `context` gives the event's time budget (see retry.ts); without one, the function's 5 minutes. */
export async function handler(event: CloudFormationCustomResourceEvent, context?: Partial<Context>): Promise<OnEventResult> {
  startEvent(context);
  switch (event.RequestType) {
    case 'Create':
      return create(readProperties(event.ResourceProperties), event.RequestId);
    case 'Update':
      return update(event);
    case 'Delete':
      return remove(event);
  }
}

function readProperties(properties: Record<string, unknown>): AccessKeyResourceProperties {
  const { BucketName, SecretArn, Serial } = properties;
  if (typeof BucketName !== 'string' || BucketName === '') {
    throw new Error('Property BucketName is required and must be a non-empty string');
  }
  if (typeof SecretArn !== 'string' || SecretArn === '') {
    throw new Error(`Property SecretArn is required for bucket "${BucketName}" and must be a non-empty string`);
  }
  return { BucketName, SecretArn, Serial: Serial === undefined ? undefined : String(Serial) };
}

function result(accessKeyId: string): OnEventResult {
  return { PhysicalResourceId: accessKeyId, Data: { [ATTRIBUTE_ACCESS_KEY_ID]: accessKeyId } };
}

/**
 * Creates a key and stores it under the event's RequestId. Also serves replacements, so the
 * bucket may already hold the key being replaced.
 */
async function create(properties: AccessKeyResourceProperties, requestId: string): Promise<OnEventResult> {
  const { BucketName: bucketName, SecretArn: secretArn } = properties;
  // One round of reads: the bucket's are started with the idempotency read, and used only after it.
  const bucketRead = readBucket(bucketName);
  bucketRead.catch(() => undefined); // Reported below, unless this event's key already exists.
  // The Provider framework may invoke us twice for one event: the first run may have finished.
  const stored = await readVersion(secretArn, { VersionId: requestId });
  if (stored?.accessKeyId) {
    logStep('create-already-done', { bucketName, accessKeyId: stored.accessKeyId, requestId });
    return result(stored.accessKeyId);
  }

  const bucket = await bucketRead;
  // After rotations a replacement finds the bucket full: the key only AWSPREVIOUS holds makes room.
  const accessKeyIds = await freeSlot(bucketName, bucket.accessKeyIds, secretArn);

  const key = await createAccessKey(bucketName, accessKeyIds);
  logStep('key-created', { bucketName, accessKeyId: key.accessKeyId });
  try {
    await storeAccessKey(secretArn, requestId, {
      accessKeyId: key.accessKeyId,
      secretAccessKey: key.secretAccessKey,
      bucketName,
      region: process.env.AWS_REGION ?? '',
      bucketUrl: bucket.url,
      serial: properties.Serial,
    });
  } catch (error) {
    return compensate(properties, key.accessKeyId, error);
  }
  logStep('key-stored', { bucketName, accessKeyId: key.accessKeyId, secretArn });
  return result(key.accessKeyId);
}

/**
 * Undoes a create whose key could not be stored: nobody holds its secret, so the key must go.
 * Always throws, with a reason that says what was left behind.
 */
async function compensate(properties: AccessKeyResourceProperties, accessKeyId: string, cause: unknown): Promise<never> {
  const { BucketName: bucketName, SecretArn: secretArn } = properties;
  const reason = describeError(cause);
  await deleteUnstoredKey(bucketName, accessKeyId, reason);
  logStep('key-deleted-after-store-failure', { bucketName, accessKeyId });
  try {
    // The store may have succeeded although its answer was lost: never leave a deleted key current.
    const held = await heldVersions(secretArn, true);
    await restorePreviousIfCurrentHolds(secretArn, accessKeyId, held, (keysOf) => bucketAccessKeyIds(keysOf, true), true);
  } catch (restoreError) {
    throw new Error(
      `${reason}. The new key ${accessKeyId} was deleted again, but checking secret ${secretArn} failed ` +
      `(${describeError(restoreError)}); make sure its AWSCURRENT version holds a key that exists.`,
    );
  }
  throw new Error(`${reason}. The new key ${accessKeyId} was deleted again; nothing else changed.`);
}

async function update(event: CloudFormationCustomResourceUpdateEvent): Promise<OnEventResult> {
  const properties = readProperties(event.ResourceProperties);
  const changed = REPLACING_PROPERTIES.filter(
    (name) => String(event.OldResourceProperties[name] ?? '') !== String(properties[name] ?? ''),
  );
  if (changed.length === 0) {
    logStep('update-unchanged', { bucketName: properties.BucketName, accessKeyId: event.PhysicalResourceId });
    return result(event.PhysicalResourceId);
  }
  // A new id makes CloudFormation delete the old key once the whole deployment has succeeded, or
  // the new one if it rolls back: never delete the old key here.
  logStep('update-replacing', { bucketName: properties.BucketName, changed: changed.join(',') });
  return create(properties, event.RequestId);
}

async function remove(event: CloudFormationCustomResourceDeleteEvent): Promise<OnEventResult> {
  const accessKeyId = event.PhysicalResourceId;
  if (!ACCESS_KEY_ID_PATTERN.test(accessKeyId)) {
    // A failed create (the framework's CREATE_FAILED marker, an id CloudFormation made up): no key
    // of ours exists, and whatever the bucket holds belongs to someone else.
    logStep('delete-skipped-not-a-key', { physicalResourceId: accessKeyId });
    return { PhysicalResourceId: accessKeyId };
  }
  const properties = readProperties(event.ResourceProperties);
  const { BucketName: bucketName, SecretArn: secretArn } = properties;
  // One round of reads: the bucket's keys are needed only if the secret must move back to its
  // previous key, which then usually lives in the same bucket.
  const keysOnBucket = bucketAccessKeyIds(bucketName);
  keysOnBucket.catch(() => undefined); // Reported when used.
  const held = await heldVersions(secretArn);
  // Secret first: if that fails, the key still exists and the secret still holds it, so running
  // applications keep working until CloudFormation retries.
  await restorePreviousIfCurrentHolds(secretArn, accessKeyId, held,
    (keysOf) => (keysOf === bucketName ? keysOnBucket : bucketAccessKeyIds(keysOf)));
  // Rotation may have replaced the key this physical id names: its generation's keys all go.
  const generationKeys = held
    .filter((version) => version.bucketName === bucketName && (version.serial ?? '') === (properties.Serial ?? ''))
    .map((version) => version.accessKeyId!);
  for (const key of new Set([accessKeyId, ...generationKeys])) {
    const deleted = await deleteAccessKey(bucketName, key);
    logStep(deleted ? 'key-deleted' : 'key-already-gone', { bucketName, accessKeyId: key });
  }
  return { PhysicalResourceId: accessKeyId };
}

/**
 * After the rollback of a replacement, CloudFormation deletes the new key while keeping the old
 * one: the secret must then hold the old key again. Only a previous version whose key still exists
 * is worth restoring (on stack deletion the previous key is long gone).
 */
async function restorePreviousIfCurrentHolds(
  secretArn: string,
  deletedAccessKeyId: string,
  held: HeldVersion[],
  keysOnBucket: (bucketName: string) => Promise<string[]>,
  compensating?: boolean,
): Promise<void> {
  const current = held.find((version) => version.stage === 'AWSCURRENT');
  if (!current || current.accessKeyId !== deletedAccessKeyId) {
    return;
  }
  const previous = held.find((version) => version.stage === 'AWSPREVIOUS');
  if (!previous?.accessKeyId || !previous.bucketName) {
    return;
  }
  if (!(await keysOnBucket(previous.bucketName)).includes(previous.accessKeyId)) {
    return;
  }
  await makeCurrent(secretArn, previous.versionId, current.versionId, compensating);
  logStep('secret-restored', { secretArn, accessKeyId: previous.accessKeyId, versionId: previous.versionId });
}
