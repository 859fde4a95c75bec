/**
 * Lightsail's two keys per bucket, shared by the custom resource and rotation: which keys a secret
 * holds, and freeing a slot by deleting keys that only the secret's AWSPREVIOUS or a stale
 * AWSPENDING version holds. A key no version of the secret holds is never deleted here.
 */
import { AccessKeyResourceProperties, MAX_ACCESS_KEYS_PER_BUCKET, VersionStage } from '../lib/contract';
import { deleteAccessKey } from './lightsail';
import { logStep } from './log';
import { StoredVersion, readVersion } from './secret-store';

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

/**
 * Makes room for one more key when the bucket is full, by deleting a key of this bucket that the
 * secret holds only as AWSPREVIOUS, or as AWSPENDING of another rotation than `keepVersionId`.
 * Returns the bucket's keys afterwards; throws when the bucket stays full.
 */
export async function freeSlot(bucketName: string, accessKeyIds: string[], secretArn: string, keepVersionId?: string): Promise<string[]> {
  let remaining = [...accessKeyIds];
  if (remaining.length < MAX_ACCESS_KEYS_PER_BUCKET) {
    return remaining;
  }
  const held = await heldVersions(secretArn);
  const current = held.find((version) => version.stage === 'AWSCURRENT')?.accessKeyId;
  // Never the current key, whichever stages name it; never the key being rotated in.
  const spare = held.filter((version) =>
    version.accessKeyId !== current && version.versionId !== keepVersionId && version.bucketName === bucketName &&
    remaining.includes(version.accessKeyId!));
  for (const version of spare) {
    if (remaining.length < MAX_ACCESS_KEYS_PER_BUCKET) {
      break;
    }
    await deleteAccessKey(bucketName, version.accessKeyId!);
    logStep('slot-freed', { bucketName, accessKeyId: version.accessKeyId, stage: version.stage });
    remaining = remaining.filter((id) => id !== version.accessKeyId);
  }
  if (remaining.length >= MAX_ACCESS_KEYS_PER_BUCKET) {
    throw fullBucketError(bucketName, remaining);
  }
  return remaining;
}
