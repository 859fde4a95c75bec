/**
 * Stack updates as CloudFormation runs them, with IAM evaluated: the handler role's policy is updated
 * in place to the NEW template before the custom resource's Update, and the replaced (or removed)
 * key's Delete, carrying the OLD properties, runs in the cleanup phase under that new policy.
 */
import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LightsailBucketAccessKey, LightsailBucketAccessKeyProvider } from '../../lib';
import { AwsEmulator } from '../../local/emulator';
import { emittedTexts, leaks } from '../../local/leaks';
import { CfnResponse, StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { synthesize } from '../../local/synth';
import type { Template } from '../../local/template';
import { ACCOUNT, REGION, STACK_NAME, currentKey, expectSuccess } from './fixture';

/** A short function timeout: a denial is retried for half of it, then the event fails. */
export const FUNCTION_TIMEOUT_SECONDS = 16;

export interface KeySpec {
  /** The key's construct id. */
  readonly id: string;
  /** The construct id of a CfnBucket of the stack (`buckets`), or... */
  readonly bucket?: string;
  /** ...the name of a bucket made elsewhere. */
  readonly bucketName?: string;
  readonly serial?: number;
  readonly secretName?: string;
  /** The construct id of a KMS key of the stack (`encryptionKeys`). */
  readonly encryptionKey?: string;
}

export interface StackSpec {
  /** CfnBuckets: construct id → bucket name. */
  readonly buckets?: Record<string, string>;
  readonly encryptionKeys?: string[];
  readonly keys: KeySpec[];
  /** The stack's default provider created with properties, under DEFAULT_ID, before the keys. */
  readonly configuredProvider?: boolean;
}

export function synthesizeSpec(spec: StackSpec): SynthesizedStack {
  return synthesize((app) => {
    const stack = new Stack(app, STACK_NAME, { env: { account: ACCOUNT, region: REGION } });
    if (spec.configuredProvider) {
      new LightsailBucketAccessKeyProvider(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID, { logRetention: logs.RetentionDays.ONE_YEAR });
    }
    const buckets = Object.fromEntries(Object.entries(spec.buckets ?? {})
      .map(([id, bucketName]) => [id, new lightsail.CfnBucket(stack, id, { bucketName, bundleId: 'small_1_0' })]));
    const encryptionKeys = Object.fromEntries((spec.encryptionKeys ?? []).map((id) => [id, new kms.Key(stack, id)]));
    for (const key of spec.keys) {
      new LightsailBucketAccessKey(stack, key.id, {
        ...(key.bucket ? { bucket: buckets[key.bucket] } : { bucketName: key.bucketName! }),
        serial: key.serial,
        secretName: key.secretName,
        encryptionKey: key.encryptionKey ? encryptionKeys[key.encryptionKey] : undefined,
      });
    }
    return stack;
  });
}

/** The logical id of a key's custom resource: its construct id and a hash. */
export function keyLogicalId(driver: StackDriver, template: Template, constructId: string): string {
  const found = driver.keyLogicalIds(template).find((id) => id.startsWith(constructId) && /^[0-9A-F]{8}$/.test(id.slice(constructId.length)));
  if (!found) {
    throw new Error(`no key ${constructId} in the template`);
  }
  return found;
}

/** What the bucket of a key is called in a spec. */
export function bucketNameOf(spec: StackSpec, keyId: string): string {
  const key = spec.keys.find((candidate) => candidate.id === keyId)!;
  return key.bucket ? spec.buckets![key.bucket] : key.bucketName!;
}

/** Buckets made elsewhere exist before the stack, as their owner made them. */
export function createOutsideBuckets(emulator: AwsEmulator, ...specs: StackSpec[]): void {
  const names = new Set(specs.flatMap((spec) => spec.keys.filter((key) => key.bucketName).map((key) => key.bucketName!)));
  for (const name of names) {
    emulator.createBucket(name);
  }
}

export interface UpdateOutcome {
  readonly v1: SynthesizedStack;
  readonly v2: SynthesizedStack;
  readonly driver: StackDriver;
  /** Each key of v1 by construct id: its physical id after the create. */
  readonly created: Record<string, string>;
  /** Each key of v2 that v1 had, by construct id: its physical id after the update; new keys of v2 after their create. */
  readonly updated: Record<string, string>;
  /** The cleanup Deletes: of replaced physical ids and of removed keys, with v1's properties. */
  readonly cleanups: Record<string, CfnResponse>;
}

/**
 * Deploys v1 (a create of each key), then v2: its policies, then an Update of each key v2 kept (a
 * Create of each key it added), then the cleanup: a Delete, with v1's properties, of each replaced
 * key and of each key v2 removed, under v2's policies.
 */
export async function deployThenUpdate(emulator: AwsEmulator, spec1: StackSpec, spec2: StackSpec): Promise<UpdateOutcome> {
  const v1 = synthesizeSpec(spec1);
  const v2 = synthesizeSpec(spec2);
  createOutsideBuckets(emulator, spec1, spec2);
  const driver = new StackDriver(emulator, v1, { functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS });
  const created: Record<string, string> = {};
  for (const key of spec1.keys) {
    created[key.id] = expectSuccess(await driver.create(keyLogicalId(driver, v1.template, key.id), v1.template));
  }
  const updated: Record<string, string> = {};
  for (const key of spec2.keys) {
    const logicalId = keyLogicalId(driver, v2.template, key.id);
    updated[key.id] = expectSuccess(created[key.id] === undefined
      ? await driver.create(logicalId, v2.template)
      : await driver.update(logicalId, created[key.id], v2.template, v1.template));
  }
  const cleanups: Record<string, CfnResponse> = {};
  for (const key of spec1.keys) {
    if (updated[key.id] !== created[key.id]) {
      cleanups[key.id] = await driver.delete(keyLogicalId(driver, v1.template, key.id), created[key.id], v1.template);
    }
  }
  return { v1, v2, driver, created, updated, cleanups };
}

/** After the update: each v2 key's secret holds it as current, and the buckets hold v2's keys and nothing else of ours. */
export function expectOnlyTheNewKeys(emulator: AwsEmulator, outcome: UpdateOutcome, spec1: StackSpec, spec2: StackSpec): void {
  for (const [keyId, response] of Object.entries(outcome.cleanups)) {
    expect({ keyId, status: response.Status, reason: response.Reason }).toEqual({ keyId, status: 'SUCCESS', reason: expect.anything() });
  }
  for (const key of spec2.keys) {
    const secretArn = outcome.driver.secretArn(keyLogicalId(outcome.driver, outcome.v2.template, key.id), outcome.v2.template);
    expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(outcome.updated[key.id]);
  }
  const bucketNames = new Set([...spec1.keys.map((key) => bucketNameOf(spec1, key.id)), ...spec2.keys.map((key) => bucketNameOf(spec2, key.id))]);
  const onBuckets = [...bucketNames].flatMap((name) => emulator.accessKeys(name).map((key) => key.accessKeyId)).sort();
  expect(onBuckets).toEqual(Object.values(outcome.updated).sort());
  // IAM judged the handler's requests: the test would prove nothing otherwise.
  expect(emulator.iamCounts().allowed).toBeGreaterThan(0);
}

/** One emulator per test file, a leak check over all its updates at the end, and `update` for each case. */
export interface CleanupPolicySuite {
  /** Started before the file's first test. */
  readonly emulator: AwsEmulator;
  /** Deploys spec1, updates to spec2 (policies first, cleanup after) and checks only the new keys are left. */
  update(spec1: StackSpec, spec2: StackSpec): Promise<UpdateOutcome>;
}

export function cleanupPolicySuite(): CleanupPolicySuite {
  const outcomes: UpdateOutcome[] = [];
  let started: AwsEmulator | undefined;
  beforeAll(async () => {
    started = await AwsEmulator.start();
  });
  afterAll(async () => {
    const texts = outcomes.flatMap((outcome) => emittedTexts(outcome.driver, [outcome.v1, outcome.v2]));
    expect(leaks(started!, texts)).toEqual([]);
    await started!.stop();
  });
  return {
    get emulator(): AwsEmulator {
      return started!;
    },
    async update(spec1, spec2) {
      started!.reset();
      const outcome = await deployThenUpdate(started!, spec1, spec2);
      outcomes.push(outcome);
      expectOnlyTheNewKeys(started!, outcome, spec1, spec2);
      return outcome;
    },
  };
}
