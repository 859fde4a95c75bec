/**
 * Rotation function of a LightsailBucketAccessKey's secret (Secrets Manager's four steps). Lightsail
 * allows two keys per bucket: the current key and the new one. The key before the current one
 * (AWSPREVIOUS) is deleted when the next rotation needs its slot, so running applications get one
 * full rotation period to pick up the current key.
 *
 * The secret access key is never logged, returned or put into an error message.
 */
import { proveKeyWorks } from './bucket-check';
import { logStep } from './log';
import { mintKey } from './mint-key';
import { LambdaContext, runEvent } from './retry';
import { describeVersions, makeCurrent, readStoredKey, removeStage } from './secret-store';

export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

/** `context` gives the step's time budget (see retry.ts). */
export async function handler(event: RotationEvent, context: LambdaContext): Promise<void> {
  return runEvent(context, () => rotate(event));
}

async function rotate(event: RotationEvent): Promise<void> {
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
  const current = await readStoredKey(secretArn, { VersionStage: 'AWSCURRENT' });
  if (!current) {
    throw new Error(`Secret ${secretArn} has no current access key to rotate`);
  }
  await mintKey({
    bucketName: current.bucketName,
    secretArn,
    token,
    stage: 'AWSPENDING',
    // Never the previous generation's key: a serial bump being deployed may still roll back to it.
    slots: { keepVersionId: token, generation: { BucketName: current.bucketName, Serial: current.serial } },
    valueOf: (key, bucketUrl) => ({ ...current, ...key, bucketUrl: bucketUrl ?? current.bucketUrl }),
  });
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
