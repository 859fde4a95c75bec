import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { IConstruct } from 'constructs';
import { MAX_ACCESS_KEYS_PER_BUCKET } from './contract';

/**
 * Warning id: two keys share a bucket and one of them has `serial` or `rotation`, which needs a
 * third slot. Acknowledge with `Annotations.of(scope).acknowledgeWarning(id, reason)`.
 */
export const NO_FREE_SLOT_WARNING = 'cdk-lightsail-bucket-access-key:noFreeSlot';

/**
 * Warning id: a key given by `bucketName` lets its functions manage the keys of every bucket of the
 * account and region. Acknowledge with `Annotations.of(scope).acknowledgeWarning(id, reason)`.
 */
export const BUCKET_NAME_SCOPE_WARNING = 'cdk-lightsail-bucket-access-key:bucketNameScope';

/** What a key tells the budget check about the bucket it takes a slot of. */
export interface BucketClaim {
  /** Equal for the keys of one bucket (see `bucketIdentity`). */
  readonly identity: string;
  /** The bucket as the messages name it. */
  readonly description: string;
  /** The key replaces itself (`serial`) or rotates (`rotation`): a new key needs a free slot first. */
  readonly needsFreeSlot: boolean;
  /** The key was given `bucketName`, so its IAM scope is every bucket of the account and region. */
  readonly byName: boolean;
}

// A symbol shared by every copy of this library loaded in one process, so that keys made by two copies still count together.
const CLAIM: unique symbol = Symbol.for('cdk-lightsail-bucket-access-key.BucketClaim');

type Claimant = IConstruct & { [CLAIM]?: BucketClaim };

/**
 * Registers the key's slot on its bucket and checks the bucket's budget when the app is
 * synthesized, when every key of the app exists, in any stack.
 */
export function claimBucketSlot(key: IConstruct, claim: BucketClaim): void {
  Object.defineProperty(key, CLAIM, { value: claim, enumerable: false });
  key.node.addValidation({ validate: () => checkBudget(key as Claimant, claim) });
}

/**
 * Keys of one bucket have equal identities: the bucket's name as the app gives it. That is the literal
 * name (the same string, whatever stack or form uses it), or the same token: one `CfnBucket`'s `Ref`
 * or name, one `CfnParameter`. Two different tokens are never taken for the same bucket.
 */
export function bucketIdentity(bucket: lightsail.IBucketRef | undefined, bucketName: string): string {
  // A CfnBucket's own name: then a key by `bucket` and a key by that bucket's `bucketName` count together.
  return bucket instanceof lightsail.CfnBucket ? bucket.bucketName : bucketName;
}

/** How the messages name a bucket: its literal name, or the construct or the token that names it. */
export function describeBucket(scope: IConstruct, bucket: lightsail.IBucketRef | undefined, identity: string): string {
  if (!Token.isUnresolved(identity)) {
    return `"${identity}"`;
  }
  return bucket ? bucket.node.path : `named by ${JSON.stringify(Stack.of(scope).resolve(identity))}`;
}

function checkBudget(key: Claimant, claim: BucketClaim): string[] {
  const sameBucket = key.node.root.node.findAll().filter((construct) => (construct as Claimant)[CLAIM]?.identity === claim.identity);
  const paths = sameBucket.map((construct) => construct.node.path);
  if (sameBucket.length > MAX_ACCESS_KEYS_PER_BUCKET) {
    return [
      `Lightsail bucket ${claim.description} would get ${sameBucket.length} access keys from this app (${paths.join(', ')}), ` +
      `but Lightsail allows ${MAX_ACCESS_KEYS_PER_BUCKET} keys per bucket: the deployment of the key over the limit fails. ` +
      'Share one key (grantRead) instead of making another, or give the extra keys their own buckets.',
    ];
  }
  if (claim.byName) {
    Annotations.of(key).addWarningV2(BUCKET_NAME_SCOPE_WARNING,
      `"bucketName" names a bucket made outside this app. Lightsail permissions name a bucket by its internal id, not its name, so the ` +
      `functions of this stack may create and delete the access keys of every Lightsail bucket in the account and region ` +
      `(arn:<partition>:lightsail:<region>:<account>:Bucket/*). To scope them to this bucket, pass "bucket" instead: a ` +
      'lightsail.CfnBucket of this app, or an IBucketRef whose bucketArn is the bucket\'s ARN.');
  }
  const others = paths.filter((path) => path !== key.node.path);
  if (claim.needsFreeSlot && sameBucket.length === MAX_ACCESS_KEYS_PER_BUCKET) {
    Annotations.of(key).addWarningV2(NO_FREE_SLOT_WARNING,
      `Lightsail bucket ${claim.description} also holds the key ${others.join(', ')}, and Lightsail allows ${MAX_ACCESS_KEYS_PER_BUCKET} keys per ` +
      'bucket. This key has "serial" or "rotation": a serial bump or a scheduled rotation creates the new key before the old one ' +
      'is deleted, so it needs a free slot and will fail at deploy time (a failed rotation leaves the current key working). ' +
      'Instead, share one key (grantRead) rather than making two, give the other key its own bucket, or drop "serial" and "rotation" from this key.');
  }
  return [];
}
