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
} from 'aws-lambda';
import {
  ACCESS_KEY_ID_PATTERN,
  ATTRIBUTE_ACCESS_KEY_ID,
  AccessKeyResourceProperties,
  REPLACING_PROPERTIES,
} from '../lib/contract';
import { restorePreviousIfCurrentHolds } from './current-key';
import { heldVersions, isOfGeneration } from './key-slots';
import { logStep } from './log';
import { bucketAccessKeyIds, deleteAccessKey } from './lightsail';
import { mintKey } from './mint-key';
import { LambdaContext, runEvent } from './retry';
import { returnToKey } from './rollback';
import { SecretUnreadable } from './secret-store';

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** `context` gives the event's time budget (see retry.ts). */
export async function handler(event: CloudFormationCustomResourceEvent, context: LambdaContext): Promise<OnEventResult> {
  return runEvent(context, () => onEvent(event));
}

async function onEvent(event: CloudFormationCustomResourceEvent): Promise<OnEventResult> {
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
  const { BucketName: bucketName, SecretArn: secretArn, Serial: serial } = properties;
  const accessKeyId = await mintKey({
    bucketName,
    secretArn,
    token: requestId,
    valueOf: (key, bucketUrl) => ({ ...key, bucketName, region: process.env.AWS_REGION ?? '', bucketUrl, serial }),
  });
  return result(accessKeyId);
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
  const oldProperties = readProperties(event.OldResourceProperties);
  if (await returnToKey({ physicalResourceId: event.PhysicalResourceId, requestId: event.RequestId, properties, oldProperties })) {
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
  const held = await heldVersions(secretArn).catch((error: unknown) => {
    if (error instanceof SecretUnreadable) {
      return error;
    }
    throw error;
  });
  if (held instanceof SecretUnreadable) {
    return deleteUnchecked(bucketName, accessKeyId, secretArn, held);
  }
  // Secret first: if that fails, the key still exists and the secret still holds it, so running
  // applications keep working until CloudFormation retries.
  await restorePreviousIfCurrentHolds(secretArn, accessKeyId, held,
    (keysOf) => (keysOf === bucketName ? keysOnBucket : bucketAccessKeyIds(keysOf)));
  // Rotation may have replaced the key this physical id names: its generation's keys all go.
  const generationKeys = held.filter((version) => isOfGeneration(version, properties)).map((version) => version.accessKeyId!);
  for (const key of new Set([accessKeyId, ...generationKeys])) {
    const deleted = await deleteAccessKey(bucketName, key);
    logStep(deleted ? 'key-deleted' : 'key-already-gone', { bucketName, accessKeyId: key });
  }
  return { PhysicalResourceId: accessKeyId };
}

/**
 * The secret cannot be read (its encryption key cannot decrypt it, it is scheduled for deletion):
 * the key the physical id names still goes, and the log and the result say what was not checked.
 */
async function deleteUnchecked(bucketName: string, accessKeyId: string, secretArn: string, unreadable: SecretUnreadable): Promise<OnEventResult> {
  const notChecked = `${unreadable.message}. Not checked: whether the secret must move back to a previous key, and which ` +
    'other keys of this generation (made by rotation) it holds; look for them on the bucket';
  logStep('secret-not-checked', { secretArn, accessKeyId, reason: unreadable.message });
  const deleted = await deleteAccessKey(bucketName, accessKeyId);
  logStep(deleted ? 'key-deleted' : 'key-already-gone', { bucketName, accessKeyId });
  return { PhysicalResourceId: accessKeyId, Data: { NotChecked: notChecked } };
}
