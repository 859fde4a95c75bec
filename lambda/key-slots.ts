/**
 * Lightsail's two keys per bucket, shared by the custom resource and rotation: which keys a secret
 * holds, and freeing a slot by deleting keys that only the secret's AWSPREVIOUS or a stale
 * AWSPENDING version holds. A key no version of the secret holds is never deleted here.
 */
import { AccessKeyResourceProperties, MAX_ACCESS_KEYS_PER_BUCKET, VersionStage } from '../lib/contract';
import { deleteAccessKey } from './lightsail';
import { logStep } from './log';
import { StoredVersion, readVersion, removeStage } from './secret-store';

const STAGES: VersionStage[] = ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'];

export type HeldVersion = StoredVersion & { readonly stage: VersionStage };

/** The versions of the secret that hold a key, by stage, read at once. */
export async function heldVersions(secretArn: string): Promise<HeldVersion[]> {
  const versions = await Promise.all(STAGES.map(async (stage) =>
    ({ stage, version: await readVersion(secretArn, { VersionStage: stage }) })));
  return versions.flatMap(({ stage, version }) => (version?.accessKeyId ? [{ ...version, stage }] : []));
}

/**
 * Whether the version holds a key of the generation the properties describe: the same bucket and
 * serial. Rotation keeps both, so a generation is the key a resource made and every rotation of it.
 */
export function isOfGeneration(version: StoredVersion, properties: AccessKeyResourceProperties): boolean {
  return version.bucketName === properties.BucketName && (version.serial ?? '') === (properties.Serial ?? '');
}

export function fullBucketError(bucketName: string, accessKeyIds: string[]): Error {
  return new Error(
    `Lightsail bucket "${bucketName}" already has ${accessKeyIds.length} access keys ` +
    `(${accessKeyIds.join(', ')}); Lightsail allows ${MAX_ACCESS_KEYS_PER_BUCKET} keys per bucket. ` +
    'Delete a key that is no longer used, then deploy again.',
  );
}

/** Which held keys a create may delete to make room, besides the rule that the current key never goes. */
export interface SlotRules {
  /** A version whose key is never deleted (the rotation's own AWSPENDING). */
  readonly keepVersionId?: string;
  /**
   * Only keys of this generation may go (rotation: the current key's). During a serial bump's
   * deployment, the previous generation's key must survive for a possible rollback.
   */
  readonly generation?: Pick<AccessKeyResourceProperties, 'BucketName' | 'Serial'>;
}

/**
 * Makes room for one more key when the bucket is full, by deleting a key of this bucket that the
 * secret holds only as AWSPREVIOUS, or as AWSPENDING of another rotation (whose label then goes
 * too, so that no rotation tests a deleted key). Returns the bucket's keys afterwards; throws when
 * the bucket stays full.
 */
export async function freeSlot(bucketName: string, accessKeyIds: string[], secretArn: string, rules: SlotRules = {}): Promise<string[]> {
  let remaining = [...accessKeyIds];
  if (remaining.length < MAX_ACCESS_KEYS_PER_BUCKET) {
    return remaining;
  }
  const held = await heldVersions(secretArn);
  const current = held.find((version) => version.stage === 'AWSCURRENT')?.accessKeyId;
  // Never the current key, whichever stages name it; never the key being rotated in.
  const spare = held.filter((version) =>
    version.accessKeyId !== current && version.versionId !== rules.keepVersionId && version.bucketName === bucketName &&
    remaining.includes(version.accessKeyId!));
  const { generation } = rules;
  const allowed = generation ? spare.filter((version) => isOfGeneration(version, { ...generation, SecretArn: secretArn })) : spare;
  for (const version of allowed) {
    if (remaining.length < MAX_ACCESS_KEYS_PER_BUCKET) {
      break;
    }
    await deleteAccessKey(bucketName, version.accessKeyId!);
    logStep('slot-freed', { bucketName, accessKeyId: version.accessKeyId, stage: version.stage });
    if (version.stage === 'AWSPENDING') {
      await removeStage(secretArn, 'AWSPENDING', version.versionId);
    }
    remaining = remaining.filter((id) => id !== version.accessKeyId);
  }
  if (remaining.length >= MAX_ACCESS_KEYS_PER_BUCKET) {
    const kept = spare.filter((version) => !allowed.includes(version));
    throw kept.length > 0 ? keptForRollbackError(bucketName, kept, generation!) : fullBucketError(bucketName, remaining);
  }
  return remaining;
}

function keptForRollbackError(bucketName: string, kept: HeldVersion[], generation: NonNullable<SlotRules['generation']>): Error {
  const keys = kept.map((version) => `${version.accessKeyId} (${version.stage}, serial ${version.serial ?? 'none'})`).join(', ');
  return new Error(
    `Lightsail bucket "${bucketName}" is full, and the key that could make room, ${keys}, belongs to another generation ` +
    `than the current key (serial ${generation.Serial ?? 'none'}): it is kept for a possible rollback of the deployment ` +
    'that changed the serial, and goes when that deployment deletes it. Secrets Manager retries the rotation later.',
  );
}
