/**
 * Which key the secret's AWSCURRENT version holds, and moving it back to an older key when the key
 * it holds goes away.
 */
import { HeldVersion } from './key-slots';
import { logStep } from './log';
import { makeCurrent } from './secret-store';

/**
 * After the rollback of a replacement, CloudFormation deletes the new key while keeping the old
 * one: the secret must then hold the old key again. Only a previous version whose key still exists
 * is worth restoring (on stack deletion the previous key is long gone).
 */
export async function restorePreviousIfCurrentHolds(
  secretArn: string,
  deletedAccessKeyId: string,
  held: HeldVersion[],
  keysOnBucket: (bucketName: string) => Promise<string[]>,
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
  await makeCurrent(secretArn, previous.versionId, current.versionId);
  logStep('secret-restored', { secretArn, accessKeyId: previous.accessKeyId, versionId: previous.versionId });
}
