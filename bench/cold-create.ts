/**
 * Cold Create: a fresh Node.js process loads a handler module and completes one Create event
 * against the local emulator. Variants run interleaved (A, B, C, A, B, C, ...) after one discarded
 * warm-up round, so that machine noise and the file cache hit all of them alike.
 */
import { randomUUID } from 'crypto';
import * as path from 'path';
import type { AwsEmulator } from '../local/emulator';
import { baseEnv, runChild } from './child';
import { ROOT, Variant } from './variants';

/** What the child reports. Times are from its own performance clock (0 = process start). */
interface RunnerMessage {
  readonly error?: string;
  readonly physicalResourceId?: string;
  /** Process start until the runner's first line: Node.js bootstrap. */
  readonly bootMs: number;
  /** require() of the handler module: module load and init (SDK clients are built here). */
  readonly loadMs: number;
  /** The handler's run: credentials, signing, HTTP, the API calls. */
  readonly invokeMs: number;
  /** process.resourceUsage().maxRSS when the result is sent, in KiB. */
  readonly maxRssKb: number;
}

export interface ColdSample extends Omit<RunnerMessage, 'error' | 'physicalResourceId'> {
  /** spawn() until the result message arrived in the parent. */
  readonly wallMs: number;
  /** Emulator calls by operation, in order. */
  readonly operations: string[];
}

const RUNNER = `
const { performance } = require('perf_hooks');
const bootMs = performance.now();
const handler = require(process.env.BENCH_HANDLER_FILE).handler;
const loadMs = performance.now() - bootMs;
process.once('message', async (event) => {
  const started = performance.now();
  // As Lambda's context: the remaining time of the function's 300 s timeout.
  const deadline = Date.now() + 300000;
  const context = { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
  let physicalResourceId, error;
  try {
    physicalResourceId = (await handler(event, context)).PhysicalResourceId;
  } catch (caught) {
    error = String(caught && caught.stack || caught);
  }
  const invokeMs = performance.now() - started;
  const maxRssKb = process.resourceUsage().maxRSS;
  process.send({ physicalResourceId, error, bootMs, loadMs, invokeMs, maxRssKb }, () => process.exit(0));
});
`;

function createEvent(emulator: AwsEmulator, bucketName: string, secretArn: string): object {
  const serviceToken = `arn:aws:lambda:${emulator.region}:${emulator.accountId}:function:bench`;
  return {
    RequestType: 'Create',
    RequestId: randomUUID(),
    ResponseURL: 'https://cloudformation-custom-resource-response-us-east-1.s3.amazonaws.com/bench',
    StackId: `arn:aws:cloudformation:${emulator.region}:${emulator.accountId}:stack/Bench/${randomUUID()}`,
    LogicalResourceId: 'Key',
    ResourceType: 'Custom::LightsailBucketAccessKey',
    ServiceToken: serviceToken,
    ResourceProperties: { ServiceToken: serviceToken, BucketName: bucketName, SecretArn: secretArn },
  };
}

/** Checks that the Create really happened: the bucket holds the key and the secret stores it. */
function verify(emulator: AwsEmulator, variant: Variant, bucketName: string, secretArn: string, message: RunnerMessage): void {
  if (message.error !== undefined) {
    throw new Error(`${variant.label}: the Create failed: ${message.error}`);
  }
  const keys = emulator.accessKeys(bucketName).map((key) => key.accessKeyId);
  const stored = emulator.currentSecretValue(secretArn) ?? '';
  if (keys.length !== 1 || keys[0] !== message.physicalResourceId || !stored.includes(keys[0])) {
    throw new Error(`${variant.label}: expected one key, stored in the secret; got keys ${keys.join(', ')} and physical id ${message.physicalResourceId}`);
  }
}

export interface ColdOptions {
  /** Measured rounds, after one unmeasured warm-up round. */
  readonly rounds: number;
  /** Where the handlers send their calls, when not straight to the emulator (a latency proxy). */
  readonly endpoint?: string;
}

function endpointEnv(endpoint: string | undefined): Record<string, string> {
  return endpoint === undefined ? {} : { AWS_ENDPOINT_URL_LIGHTSAIL: endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint };
}

async function coldCreate(emulator: AwsEmulator, variant: Variant, run: string, endpoint: string | undefined): Promise<ColdSample> {
  const bucketName = `bench-${variant.id}-${run}`;
  emulator.createBucket(bucketName);
  const secretArn = emulator.createSecret(`bench/${variant.id}/${run}`).arn;
  const callsBefore = emulator.calls().length;
  const { wallMs, message } = await runChild<RunnerMessage>({
    script: RUNNER,
    env: {
      ...baseEnv(),
      ...emulator.env(),
      ...endpointEnv(endpoint),
      // As the Lambda runtime sets it: where an unbundled handler finds the SDK.
      NODE_PATH: path.join(ROOT, 'node_modules'),
      BENCH_HANDLER_FILE: variant.file,
    },
    input: createEvent(emulator, bucketName, secretArn),
    timeoutMs: 60_000,
  });
  verify(emulator, variant, bucketName, secretArn, message);
  const operations = emulator.calls().slice(callsBefore).map((call) => call.operation);
  const { bootMs, loadMs, invokeMs, maxRssKb } = message;
  return { wallMs, bootMs, loadMs, invokeMs, maxRssKb, operations };
}

/** Measured Creates per variant, interleaved, after one unmeasured warm-up round. */
export async function coldCreates(emulator: AwsEmulator, variants: readonly Variant[], options: ColdOptions): Promise<Map<string, ColdSample[]>> {
  const samples = new Map<string, ColdSample[]>(variants.map((variant) => [variant.id, []]));
  const prefix = options.endpoint === undefined ? '' : 'l';
  for (const variant of variants) {
    await coldCreate(emulator, variant, `${prefix}warmup`, options.endpoint);
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const variant of variants) {
      samples.get(variant.id)!.push(await coldCreate(emulator, variant, `${prefix}${round}`, options.endpoint));
    }
  }
  return samples;
}
