/**
 * Burst efficiency: N keys (two per bucket) of one stack created at once, as CloudFormation creates
 * independent resources in parallel, through the real Provider framework and the shipped handler,
 * against a Lightsail whose request rate the emulator limits with a token bucket.
 *
 * Ideal time: a token bucket that starts full lets `burst` requests through at once and then one
 * every 1/rate seconds, so the Lightsail calls the Creates needed (the ones it served) cannot all be
 * served before (served - burst) / rate. The figure is the measured time over that floor. The same
 * burst without the limit is measured too: what the machine needs for N cold handler processes,
 * which the floor leaves out.
 */
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { Stack } from 'aws-cdk-lib';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey } from '../lib';
import type { AwsEmulator, RateLimit } from '../local/emulator';
import { StackDriver, SynthesizedStack } from '../local/stack-driver';
import { synthesize } from '../local/synth';

export interface BurstSample {
  readonly keys: number;
  readonly limit: RateLimit;
  /** From sending every Create event to the last response. */
  readonly elapsedMs: number;
  /** The same burst without a rate limit. */
  readonly unlimitedMs: number;
  /** Lightsail calls served (not throttled) during the Creates. */
  readonly servedCalls: number;
  readonly throttledCalls: number;
  /** (servedCalls - burst) / rate. */
  readonly idealMs: number;
  /** Failure reasons of the Creates that failed. */
  readonly failures: string[];
  /** Keys on the buckets afterwards: one per Create when all succeeded. */
  readonly keysMade: number;
}

function synthesizeKeys(keys: number): SynthesizedStack {
  return synthesize((app) => {
    const stack = new Stack(app, `BenchBurst${keys}`, { env: { account: '123456789012', region: 'us-east-1' } });
    for (let index = 0; index < keys / 2; index++) {
      const bucket = new lightsail.CfnBucket(stack, `Bucket${index}`, { bucketName: `bench-burst-${index}`, bundleId: 'small_1_0' });
      new LightsailBucketAccessKey(stack, `Key${index}a`, { bucket });
      new LightsailBucketAccessKey(stack, `Key${index}b`, { bucket });
    }
    return stack;
  });
}

interface Burst {
  readonly elapsedMs: number;
  readonly logicalIds: string[];
  readonly failures: string[];
  readonly keysMade: number;
}

/** Creates every key of the stack at once, on fresh emulator state. */
async function createAllAtOnce(emulator: AwsEmulator, stack: SynthesizedStack, limit: RateLimit | undefined): Promise<Burst> {
  emulator.reset();
  const driver = new StackDriver(emulator, stack);
  const logicalIds = driver.keyLogicalIds();
  emulator.limitRate('lightsail', limit);
  const started = performance.now();
  const responses = await Promise.all(logicalIds.map((logicalId) => driver.create(logicalId)));
  const elapsedMs = performance.now() - started;
  const buckets = new Set(logicalIds.map((logicalId) => driver.properties(logicalId).BucketName));
  return {
    elapsedMs,
    logicalIds,
    failures: responses.filter((response) => response.Status !== 'SUCCESS').map((response) => `${response.LogicalResourceId}: ${response.Reason}`),
    keysMade: [...buckets].reduce((sum, bucketName) => sum + emulator.accessKeys(bucketName).length, 0),
  };
}

async function burstOf(emulator: AwsEmulator, keys: number, limit: RateLimit): Promise<BurstSample> {
  const stack = synthesizeKeys(keys);
  try {
    const unlimited = await createAllAtOnce(emulator, stack, undefined);
    const limited = await createAllAtOnce(emulator, stack, limit);
    const { served, throttled } = emulator.gateCounts('lightsail');
    return {
      keys,
      limit,
      elapsedMs: limited.elapsedMs,
      unlimitedMs: unlimited.elapsedMs,
      servedCalls: served,
      throttledCalls: throttled,
      idealMs: (Math.max(0, served - limit.burst) / limit.ratePerSecond) * 1000,
      failures: [...unlimited.failures, ...limited.failures],
      keysMade: limited.keysMade,
    };
  } finally {
    emulator.reset();
    fs.rmSync(stack.directory, { recursive: true, force: true });
  }
}

/** One burst per key count, in order. */
export async function burstEfficiency(emulator: AwsEmulator, keyCounts: readonly number[], limit: RateLimit): Promise<BurstSample[]> {
  const samples: BurstSample[] = [];
  for (const keys of keyCounts) {
    samples.push(await burstOf(emulator, keys, limit));
  }
  return samples;
}
