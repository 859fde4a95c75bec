/**
 * The rollback of a failed Update. CloudFormation rolls a failed Update back with another Update:
 * ResourceProperties = the old properties, OldResourceProperties = the ones that failed,
 * PhysicalResourceId = the id it kept (the Provider framework keeps the old id when onEvent throws
 * on Update: aws/aws-cdk#17040). Such an Update describes the key its physical id already names, as
 * the secret records it (bucket, serial, secret): it is a return to that key, not a replacement.
 *
 * A return needs no free slot and makes no key. It makes the secret hold the key as AWSCURRENT
 * again, deletes the keys the failed attempt made (CloudFormation never heard of them, so no Delete
 * will come for them), and never deletes the key it returns to.
 */
import type { AccessKeyResourceProperties } from '../lib/contract';
import { HeldVersion, heldVersions, isOfGeneration } from './key-slots';
import { bucketAccessKeyIds, deleteAccessKey } from './lightsail';
import { logStep } from './log';
import { makeCurrent } from './secret-store';

export interface UpdateRequest {
  readonly physicalResourceId: string;
  /** The event's RequestId: a version stored under it was made by this very event (delivered twice), never a return. */
  readonly requestId: string;
  readonly properties: AccessKeyResourceProperties;
  readonly oldProperties: AccessKeyResourceProperties;
}

/**
 * Returns to the key the physical id names when the properties describe it; false when the Update
 * is a replacement (a genuine change, also back to values the resource once had).
 */
export async function returnToKey(request: UpdateRequest): Promise<boolean> {
  const { properties, physicalResourceId } = request;
  const held = await heldVersions(properties.SecretArn);
  const target = await returnTarget(request, held);
  if (!target) {
    return false;
  }
  logStep('update-returning', { bucketName: properties.BucketName, accessKeyId: physicalResourceId, heldKey: target.accessKeyId });
  const current = held.find((version) => version.stage === 'AWSCURRENT');
  if (current?.versionId !== target.versionId) {
    await makeCurrent(properties.SecretArn, target.versionId, current?.versionId);
    logStep('secret-restored', { secretArn: properties.SecretArn, accessKeyId: target.accessKeyId, versionId: target.versionId });
  }
  await deleteFailedAttemptKeys(request, held, target);
  return true;
}

/**
 * The version the Update returns to: the one holding the physical id, when it records the new
 * properties' generation. When rotation has made the physical id stale (no version holds it any
 * more), the newest version of that generation whose key still exists: AWSCURRENT, else AWSPREVIOUS.
 * AWSPENDING is never returned to (its key was never tested), nor a version this event stored.
 */
async function returnTarget(request: UpdateRequest, held: HeldVersion[]): Promise<HeldVersion | undefined> {
  const { properties, physicalResourceId, requestId } = request;
  const candidates = held.filter((version) =>
    version.stage !== 'AWSPENDING' && version.versionId !== requestId && isOfGeneration(version, properties));
  if (held.some((version) => version.accessKeyId === physicalResourceId)) {
    return candidates.find((version) => version.accessKeyId === physicalResourceId);
  }
  if (candidates.length === 0) {
    return undefined;
  }
  const keysOnBucket = await bucketAccessKeyIds(properties.BucketName);
  return candidates.find((version) => keysOnBucket.includes(version.accessKeyId!));
}

/**
 * The keys of the failed properties' generation in the failed properties' secret (which may be
 * another secret, that the rollback then deletes), except those of the generation returned to.
 */
async function deleteFailedAttemptKeys(request: UpdateRequest, held: HeldVersion[], target: HeldVersion): Promise<void> {
  const { properties, oldProperties, physicalResourceId } = request;
  const kept = new Set([physicalResourceId, target.accessKeyId,
    ...held.filter((version) => isOfGeneration(version, properties)).map((version) => version.accessKeyId)]);
  const failedHeld = oldProperties.SecretArn === properties.SecretArn ? held : await heldVersions(oldProperties.SecretArn);
  const failedKeys = failedHeld
    .filter((version) => isOfGeneration(version, oldProperties) && !kept.has(version.accessKeyId))
    .map((version) => version.accessKeyId!);
  for (const accessKeyId of new Set(failedKeys)) {
    const deleted = await deleteAccessKey(oldProperties.BucketName, accessKeyId);
    logStep(deleted ? 'failed-attempt-key-deleted' : 'key-already-gone', { bucketName: oldProperties.BucketName, accessKeyId });
  }
}
