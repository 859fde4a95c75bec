/**
 * Synth time and template size for stacks with 1, 10 and 100 keys (each with its own CfnBucket),
 * every run in a fresh Node.js process (cold), configurations interleaved (1, 10, 100, 1, ...).
 * The child loads the compiled library (lib/index.js, from `npm run build`) and aws-cdk-lib, with
 * the context of this repository's cdk.json (its feature flags), as `cdk synth` would. aws-cdk-lib's
 * built-in CloudFormation validation (a WebAssembly engine) runs unless CDK_VALIDATION=false.
 */
import * as fs from 'fs';
import * as path from 'path';
import { baseEnv, runChild } from './child';
import { ROOT } from './variants';

export interface SynthConfig {
  readonly keys: number;
  /** aws-cdk-lib's built-in template validation (on by default; CDK_VALIDATION=false turns it off). */
  readonly validation: boolean;
}

export interface SynthSample extends SynthConfig {
  /** spawn() until the result: Node.js start, loading aws-cdk-lib and the library, construct, synth. */
  readonly wallMs: number;
  /** require() of aws-cdk-lib, aws-cdk-lib/aws-lightsail and lib/index.js. */
  readonly loadMs: number;
  /** Building the constructs (new App .. last key). */
  readonly constructMs: number;
  /** app.synth(): validation, template and asset staging. */
  readonly synthMs: number;
  /** Resources by type. */
  readonly types: Record<string, number>;
  /** The template file as written into the cloud assembly. */
  readonly templateBytes: number;
  readonly maxRssKb: number;
}

const SYNTH_SCRIPT = `
const { performance } = require('perf_hooks');
const fs = require('fs'), os = require('os'), path = require('path');
const started = performance.now();
const cdk = require('aws-cdk-lib');
const lightsail = require('aws-cdk-lib/aws-lightsail');
const { LightsailBucketAccessKey } = require(process.env.BENCH_LIB);
const loaded = performance.now();
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
const app = new cdk.App({ outdir, context: JSON.parse(process.env.BENCH_CONTEXT) });
const stack = new cdk.Stack(app, 'BenchSynth', { env: { account: '123456789012', region: 'us-east-1' } });
for (let i = 0; i < Number(process.env.BENCH_KEYS); i++) {
  const bucket = new lightsail.CfnBucket(stack, 'Bucket' + i, { bucketName: 'bench-bucket-' + i, bundleId: 'small_1_0' });
  new LightsailBucketAccessKey(stack, 'Key' + i, { bucket });
}
const constructed = performance.now();
const artifact = app.synth().getStackByName(stack.stackName);
const synthesized = performance.now();
const types = {};
for (const resource of Object.values(artifact.template.Resources)) types[resource.Type] = (types[resource.Type] || 0) + 1;
const templateBytes = fs.statSync(artifact.templateFullPath).size;
fs.rmSync(outdir, { recursive: true, force: true });
process.send({
  loadMs: loaded - started, constructMs: constructed - loaded, synthMs: synthesized - constructed,
  types, templateBytes, maxRssKb: process.resourceUsage().maxRSS,
}, () => process.exit(0));
`;

type ChildMessage = Omit<SynthSample, 'keys' | 'validation' | 'wallMs'>;

function cdkJsonContext(): string {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf-8')) as { context?: object };
  return JSON.stringify(cdkJson.context ?? {});
}

async function synthOnce({ keys, validation }: SynthConfig): Promise<SynthSample> {
  const { wallMs, message } = await runChild<ChildMessage>({
    script: SYNTH_SCRIPT,
    env: {
      ...baseEnv(),
      NODE_PATH: path.join(ROOT, 'node_modules'),
      BENCH_LIB: path.join(ROOT, 'lib', 'index.js'),
      BENCH_KEYS: String(keys),
      BENCH_CONTEXT: cdkJsonContext(),
      ...(validation ? {} : { CDK_VALIDATION: 'false' }),
    },
    cwd: ROOT,
    timeoutMs: 120_000,
  });
  return { keys, validation, wallMs, ...message };
}

/** `rounds` runs of every configuration, interleaved; results in the order of `configs`. */
export async function synthScaling(configs: readonly SynthConfig[], rounds: number): Promise<SynthSample[][]> {
  const samples: SynthSample[][] = configs.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let index = 0; index < configs.length; index++) {
      samples[index].push(await synthOnce(configs[index]));
    }
  }
  return samples;
}

/** Resources per stack that do not belong to one key (bucket, custom resource, secret). */
export function sharedResources(sample: SynthSample): number {
  const total = Object.values(sample.types).reduce((sum, count) => sum + count, 0);
  const perKey = (sample.types['AWS::Lightsail::Bucket'] ?? 0)
    + (sample.types['Custom::LightsailBucketAccessKey'] ?? 0)
    + (sample.types['AWS::SecretsManager::Secret'] ?? 0);
  return total - perKey;
}
