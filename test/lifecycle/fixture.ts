import { Duration, Stack } from 'aws-cdk-lib';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import type { StoredAccessKey } from '../../lib/contract';
import { LightsailBucketAccessKey } from '../../lib';
import type { AwsEmulator } from '../../local/emulator';
import type { CfnResponse, StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { synthesize } from '../../local/synth';

export const STACK_NAME = 'Lifecycle';
export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

export interface KeyStackOptions {
  readonly bucketName?: string;
  readonly serial?: number;
  /** Give the key only the bucket's name instead of the CfnBucket. */
  readonly byName?: boolean;
  /** Create the CfnBucket (false: the bucket is made elsewhere). */
  readonly withBucket?: boolean;
  /** Rotate the key every 30 days. */
  readonly rotating?: boolean;
  /** The secret's name (a change replaces the secret). Default: CloudFormation makes one up. */
  readonly secretName?: string;
}

/** A stack with a Lightsail bucket and one access key for it. */
export function synthesizeKeyStack(options: KeyStackOptions = {}): SynthesizedStack {
  return synthesize((app) => {
    const stack = new Stack(app, STACK_NAME, { env: { account: ACCOUNT, region: REGION } });
    const bucketName = options.bucketName ?? 'lifecycle-bucket';
    const bucket = options.withBucket === false
      ? undefined
      : new lightsail.CfnBucket(stack, 'Bucket', { bucketName, bundleId: 'small_1_0' });
    new LightsailBucketAccessKey(stack, 'Key', {
      ...(options.byName || !bucket ? { bucketName } : { bucket }),
      serial: options.serial,
      secretName: options.secretName,
      ...(options.rotating ? { rotation: { automaticallyAfter: Duration.days(30) } } : {}),
    });
    return stack;
  });
}

export interface ManyKeysOptions {
  readonly buckets: number;
  readonly keysPerBucket: number;
  readonly rotating?: boolean;
}

/** The bucket names of synthesizeManyKeysStack: scale-bucket-0, scale-bucket-1, ... */
export function scaleBucketNames(buckets: number): string[] {
  return Array.from({ length: buckets }, (_, index) => `scale-bucket-${index}`);
}

/** One stack (so one handler, as in one app) with `keysPerBucket` keys on each of `buckets` buckets. */
export function synthesizeManyKeysStack(options: ManyKeysOptions): SynthesizedStack {
  return synthesize((app) => {
    const stack = new Stack(app, 'Scale', { env: { account: ACCOUNT, region: REGION } });
    scaleBucketNames(options.buckets).forEach((bucketName, index) => {
      const bucket = new lightsail.CfnBucket(stack, `Bucket${index}`, { bucketName, bundleId: 'small_1_0' });
      for (let key = 0; key < options.keysPerBucket; key++) {
        new LightsailBucketAccessKey(stack, `Key${index}x${key}`, {
          bucket,
          ...(options.rotating ? { rotation: { automaticallyAfter: Duration.days(30) } } : {}),
        });
      }
    });
    return stack;
  });
}

export function keyId(driver: StackDriver, stack: SynthesizedStack = driver.stack): string {
  const [logicalId] = driver.keyLogicalIds(stack.template);
  return logicalId;
}

/** The secret's AWSCURRENT value, parsed. */
export function currentKey(emulator: AwsEmulator, secretArn: string): StoredAccessKey | undefined {
  const value = emulator.currentSecretValue(secretArn);
  return value === undefined ? undefined : JSON.parse(value) as StoredAccessKey;
}

export function keyIds(emulator: AwsEmulator, bucketName: string): string[] {
  return emulator.accessKeys(bucketName).map((key) => key.accessKeyId).sort();
}

export function expectSuccess(response: CfnResponse): string {
  if (response.Status !== 'SUCCESS') {
    throw new Error(`expected SUCCESS, got FAILED: ${response.Reason}`);
  }
  return response.PhysicalResourceId;
}

/**
 * The two promises of the product: every key of ours in the bucket is held by the secret, as its
 * current, previous or pending version (no orphan), and the secret's current version holds a key that exists, with the secret Lightsail
 * issued for it.
 */
export function expectSecretHoldsEveryKey(emulator: AwsEmulator, bucketName: string, secretArn: string, foreignKeyIds: string[] = []): void {
  const held = new Set(emulator.secretVersions(secretArn)
    .filter((version) => ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'].some((stage) => version.stages.includes(stage)))
    .map((version) => (JSON.parse(version.secretString ?? '{}') as StoredAccessKey).accessKeyId));
  const ours = keyIds(emulator, bucketName).filter((id) => !foreignKeyIds.includes(id));
  expect(ours.filter((id) => !held.has(id))).toEqual([]);
  if (ours.length > 0) {
    const current = currentKey(emulator, secretArn);
    expect(ours).toContain(current?.accessKeyId);
    expect(emulator.issuedSecretAccessKeys()).toContain(current?.secretAccessKey);
  }
}
