/**
 * API calls per lifecycle event, counted at the emulator, through the real Provider framework and
 * the shipped handler (local/stack-driver), on the example app's stack; the handler's calls go
 * through the latency proxy, whose log of arrival and answer times gives the rounds of calls each
 * event waits for before its key call.
 */
import * as fs from 'fs';
import { ExampleStack } from '../bin/example-stack';
import type { AwsEmulator } from '../local/emulator';
import { CfnResponse, StackDriver, SynthesizedStack } from '../local/stack-driver';
import { synthesize } from '../local/synth';
import type { LatencyProxy, ProxiedRequest } from './latency-proxy';

/** Operations that change state; every other operation the handler uses only reads. */
const MUTATING = new Set(['CreateBucketAccessKey', 'DeleteBucketAccessKey', 'PutSecretValue', 'UpdateSecretVersionStage']);

export interface EventCalls {
  readonly event: string;
  readonly mutating: string[];
  readonly reads: string[];
  /** The least any handler must do: mutating calls only. */
  readonly floor: string;
  /** The call that creates or deletes the key, if the event makes one. */
  readonly keyCall?: string;
  /** The rounds of calls made before the key call, each a list of operations (empty without a key call). */
  readonly roundsBeforeKeyCall: string[][];
}

const KEY_CALLS = ['CreateBucketAccessKey', 'DeleteBucketAccessKey'];

/**
 * Requests in rounds: a request that was sent after an answer of the current round had come back may
 * have waited for it, so it starts the next round; requests sent together (before any answer) share one.
 */
export function rounds(requests: readonly ProxiedRequest[]): ProxiedRequest[][] {
  const result: ProxiedRequest[][] = [];
  let firstAnswer = -Infinity;
  for (const request of [...requests].sort((a, b) => a.receivedAt - b.receivedAt)) {
    if (result.length > 0 && request.receivedAt < firstAnswer) {
      result[result.length - 1].push(request);
    } else {
      result.push([request]);
      firstAnswer = Infinity;
    }
    firstAnswer = Math.min(firstAnswer, request.answeredAt ?? Infinity);
  }
  return result;
}

function roundsBefore(keyCall: string | undefined, requests: readonly ProxiedRequest[]): string[][] {
  const grouped = rounds(requests).map((round) => round.map((request) => request.operation));
  const at = keyCall === undefined ? -1 : grouped.findIndex((round) => round.includes(keyCall));
  return at < 0 ? [] : grouped.slice(0, at);
}

/** Rounds made only of reads, before the key call. */
export function readRounds(row: EventCalls): number {
  return row.roundsBeforeKeyCall.filter((round) => round.every((operation) => !MUTATING.has(operation))).length;
}

interface Stacks {
  readonly first: SynthesizedStack;
  readonly rotated: SynthesizedStack;
}

function synthesizeExample(serial: number): SynthesizedStack {
  return synthesize((app) => new ExampleStack(app, 'BenchApiCalls', {
    bucketName: 'bench-api-calls',
    serial,
    env: { account: '123456789012', region: 'us-east-1' },
  }));
}

function succeeded(response: CfnResponse): string {
  if (response.Status !== 'SUCCESS') {
    throw new Error(`expected SUCCESS, got FAILED: ${response.Reason}`);
  }
  return response.PhysicalResourceId;
}

class CallCounter {
  readonly rows: EventCalls[] = [];

  constructor(private readonly emulator: AwsEmulator, private readonly proxy: LatencyProxy) {}

  /** Runs one event and records the calls it made. */
  async count(event: string, floor: string, send: () => Promise<CfnResponse>): Promise<string> {
    const before = this.emulator.calls().length;
    const proxiedBefore = this.proxy.requests.length;
    const physicalId = succeeded(await send());
    const operations = this.emulator.calls().slice(before).map((call) => call.operation);
    const keyCall = KEY_CALLS.find((operation) => operations.includes(operation));
    this.rows.push({
      event,
      floor,
      mutating: operations.filter((operation) => MUTATING.has(operation)),
      reads: operations.filter((operation) => !MUTATING.has(operation)),
      keyCall,
      roundsBeforeKeyCall: roundsBefore(keyCall, this.proxy.requests.slice(proxiedBefore)),
    });
    return physicalId;
  }
}

async function successPath(counter: CallCounter, driver: StackDriver, stacks: Stacks): Promise<void> {
  const [id] = driver.keyLogicalIds();
  const first = await counter.count('Create', '2 (CreateBucketAccessKey, PutSecretValue)', () => driver.create(id));
  await counter.count('Update, no change (no-op)', '0', () => driver.update(id, first, stacks.first.template, stacks.first.template));
  const second = await counter.count('Update, serial 1 → 2 (Replace: new key)', '2 (as Create)',
    () => driver.update(id, first, stacks.rotated.template, stacks.first.template));
  await counter.count('Delete of the replaced key (after the update succeeded)', '1 (DeleteBucketAccessKey)',
    () => driver.delete(id, first, stacks.first.template));
  await counter.count('Delete (stack delete)', '1 (DeleteBucketAccessKey)', () => driver.delete(id, second, stacks.rotated.template));
}

async function rollbackPath(counter: CallCounter, driver: StackDriver, stacks: Stacks): Promise<void> {
  const [id] = driver.keyLogicalIds();
  const old = succeeded(await driver.create(id));
  const replacement = succeeded(await driver.update(id, old, stacks.rotated.template, stacks.first.template));
  await counter.count('Delete of the new key (rollback of a Replace)', '2 (DeleteBucketAccessKey, UpdateSecretVersionStage)',
    () => driver.delete(id, replacement, stacks.rotated.template));
}

/**
 * The calls of every event, the success path first, then the rollback of a replacement; the
 * handler's calls go through `proxy` (a latency proxy in front of the emulator).
 */
export async function countApiCalls(emulator: AwsEmulator, proxy: LatencyProxy): Promise<EventCalls[]> {
  const stacks = { first: synthesizeExample(1), rotated: synthesizeExample(2) };
  const counter = new CallCounter(emulator, proxy);
  const options = { endpoint: proxy.endpoint };
  try {
    emulator.reset();
    await successPath(counter, new StackDriver(emulator, stacks.first, options), stacks);
    emulator.reset();
    await rollbackPath(counter, new StackDriver(emulator, stacks.first, options), stacks);
    return counter.rows;
  } finally {
    emulator.reset();
    for (const stack of [stacks.first, stacks.rotated]) {
      fs.rmSync(stack.directory, { recursive: true, force: true });
    }
  }
}
