/**
 * Rotation function of a LightsailBucketAccessKey's secret (Secrets Manager's four steps). Lightsail
 * allows two keys per bucket: the current key and the new one. The key before the current one
 * (AWSPREVIOUS) is deleted when the next rotation needs its slot, so running applications get one
 * full rotation period to pick up the current key.
 *
 * The secret access key is never logged, returned or put into an error message.
 */
import type { Context } from 'aws-lambda';
import { createAccessKey, deleteUnstoredKey, readBucket } from './lightsail';
import { freeSlot } from './key-slots';
import { logStep } from './log';
import { proveKeyWorks } from './bucket-check';
import { startEvent } from './retry';
import { describeVersions, makeCurrent, readStoredKey, removeStage, storeAccessKey } from './secret-store';
import { describeError } from './sdk-errors';

export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

/** `context` gives the step's time budget (see retry.ts). */
export async function handler(event: RotationEvent, context?: Partial<Context>): Promise<void> {
  startEvent(context);
  const { SecretId: secretArn, ClientRequestToken: token, Step: step } = event;
  const { rotationEnabled, stages } = await describeVersions(secretArn);
  if (!rotationEnabled) {
    throw new Error(`Secret ${secretArn} is not enabled for rotation`);
  }
  const tokenStages = stages[token];
  if (!tokenStages) {
    throw new Error(`Version ${token} of secret ${secretArn} has no stage for rotation`);
  }
  if (tokenStages.includes('AWSCURRENT')) {
    logStep('rotation-already-current', { secretArn, versionId: token, rotationStep: step });
    return;
  }
  if (!tokenStages.includes('AWSPENDING')) {
    throw new Error(`Version ${token} of secret ${secretArn} is not AWSPENDING`);
  }
  switch (step) {
    case 'createSecret':
      return createSecret(secretArn, token);
    case 'setSecret':
      return; // Lightsail keys work as soon as they exist: nothing to set elsewhere.
    case 'testSecret':
      return testSecret(secretArn, token);
    case 'finishSecret':
      return finishSecret(secretArn, token, stages);
    default:
      throw new Error(`Unknown rotation step ${String(step)}`);
  }
}

/** Makes a new key of the current key's bucket and stores it as AWSPENDING under the token. */
async function createSecret(secretArn: string, token: string): Promise<void> {
  if (await readStoredKey(secretArn, { VersionId: token, VersionStage: 'AWSPENDING' })) {
    logStep('rotation-key-already-created', { secretArn, versionId: token });
    return;
  }
  const current = await readStoredKey(secretArn, { VersionStage: 'AWSCURRENT' });
  if (!current) {
    throw new Error(`Secret ${secretArn} has no current access key to rotate`);
  }
  const bucket = await readBucket(current.bucketName);
  const accessKeyIds = await freeSlot(current.bucketName, bucket.accessKeyIds, secretArn, token);
  const key = await createAccessKey(current.bucketName, accessKeyIds);
  logStep('rotation-key-created', { secretArn, bucketName: current.bucketName, accessKeyId: key.accessKeyId });
  try {
    await storeAccessKey(secretArn, token, { ...current, ...key, bucketUrl: bucket.url ?? current.bucketUrl }, 'AWSPENDING');
  } catch (error) {
    await deleteUnstoredKey(current.bucketName, key.accessKeyId, describeError(error));
    throw new Error(`${describeError(error)}. The new key ${key.accessKeyId} was deleted again.`);
  }
  logStep('rotation-key-stored', { secretArn, accessKeyId: key.accessKeyId, versionId: token });
}

async function testSecret(secretArn: string, token: string): Promise<void> {
  const pending = await readStoredKey(secretArn, { VersionId: token, VersionStage: 'AWSPENDING' });
  if (!pending) {
    throw new Error(`Version ${token} of secret ${secretArn} holds no access key to test`);
  }
  await proveKeyWorks(pending);
  logStep('rotation-key-works', { secretArn, accessKeyId: pending.accessKeyId });
}

/** AWSCURRENT moves to the new key; the old key stays valid as AWSPREVIOUS until the next rotation. */
async function finishSecret(secretArn: string, token: string, stages: Record<string, string[]>): Promise<void> {
  const currentVersionId = Object.keys(stages).find((versionId) => stages[versionId].includes('AWSCURRENT'));
  if (!currentVersionId) {
    throw new Error(`Secret ${secretArn} has no AWSCURRENT version`);
  }
  await makeCurrent(secretArn, token, currentVersionId);
  await removeStage(secretArn, 'AWSPENDING', token);
  logStep('rotation-finished', { secretArn, versionId: token });
}
