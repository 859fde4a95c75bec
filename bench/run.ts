/**
 * `npm run bench`: cold Create against the local emulator, directly and through a latency proxy
 * (ours vs an AwsCustomResource-style handler vs the floor), API calls and round trips per lifecycle
 * event, burst efficiency under a Lightsail rate limit, bundle size, synth scaling. Prints markdown
 * tables and every target with its result, and writes them to bench/RESULTS.md (anything below
 * END_MARKER there is kept).
 * Needs `npm run build` first. Bounded: fixed run counts, every child process has a timeout.
 */
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { AwsEmulator } from '../local/emulator';
import { countApiCalls } from './api-calls';
import { burstEfficiency } from './burst';
import { bundleSize, composition, sameBytes } from './bundle';
import { coldCreates } from './cold-create';
import { describeMachine, loadAverage, machineLines } from './machine';
import { startLatencyProxy } from './latency-proxy';
import {
  BundleResults, ColdResults, TargetCheck, bundleTables, burstChecks, burstTable, callsCheck, callsTable, coldRatios, coldTable,
  deleteRoundsCheck, synthRatios, synthTable, targetsTable,
} from './report';
import { SynthConfig, synthScaling } from './synth-scaling';
import { Variants, buildVariants, removeVariants } from './variants';

const COLD_ROUNDS = 15;
const LATENCY_ROUNDS = 7;
/** Per-call delay of the latency proxy, a stand-in for a real endpoint's round trip and service time. */
const LATENCY_MS = 20;
const SYNTH_ROUNDS = 5;
/**
 * Keys created at once for the burst-efficiency figure, and the Lightsail rate they share. The rate is
 * low enough that the ideal outweighs what this 2-core machine needs to start N handler processes at
 * once (at 10/s, 16 keys take 4.3 s unthrottled for an ideal of 4.3 s, and the figure would measure
 * the machine rather than the handler's retries).
 */
const BURST_KEYS = [16, 64];
const BURST_LIMIT = { ratePerSecond: 4, burst: 5 };
const SYNTH_CONFIGS: SynthConfig[] = [true, false].flatMap((validation) => [1, 10, 100].map((keys) => ({ keys, validation })));
const RESULTS_FILE = path.join(__dirname, 'RESULTS.md');
const END_MARKER = '<!-- end of generated results: notes below this line are kept by npm run bench -->';

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function withEmulator<T>(work: (emulator: AwsEmulator) => Promise<T>): Promise<T> {
  const emulator = await AwsEmulator.start();
  try {
    return await work(emulator);
  } finally {
    await emulator.stop();
  }
}

interface ColdSections {
  readonly local: ColdResults;
  readonly delayed: ColdResults;
}

async function coldSection(variants: Variants): Promise<ColdSections> {
  const { ours, awsCustomResourceStyle, floorBundled, floorUnbundled } = variants;
  const handlers = [ours, awsCustomResourceStyle, floorBundled, floorUnbundled];
  return withEmulator(async (emulator) => {
    progress(`cold Create: ${COLD_ROUNDS} interleaved rounds of 4 handlers (+1 warm-up round)`);
    const local = await coldCreates(emulator, handlers, { rounds: COLD_ROUNDS });
    progress(`cold Create through a ${LATENCY_MS} ms latency proxy: ${LATENCY_ROUNDS} rounds (+1 warm-up round)`);
    const proxy = await startLatencyProxy(emulator.endpoint, LATENCY_MS);
    try {
      const delayed = await coldCreates(emulator, handlers, { rounds: LATENCY_ROUNDS, endpoint: proxy.endpoint });
      return {
        local: { ours, awsCustomResourceStyle, floorBundled, floorUnbundled, samples: local },
        delayed: { ours, awsCustomResourceStyle, floorBundled, floorUnbundled, samples: delayed },
      };
    } finally {
      await proxy.stop();
    }
  });
}

function moduleCount(metafile: string): number {
  return composition(metafile).reduce((sum, share) => sum + share.modules, 0);
}

function bundleSection(variants: Variants): BundleResults {
  if (!sameBytes(variants.ours.file, variants.oursRebuilt.file)) {
    throw new Error('lambda/dist/on-event/index.js differs from a fresh build of lambda/on-event.ts: run `npm run build` first');
  }
  const oursMeta = variants.oursRebuilt.metafile!;
  const floorMeta = variants.floorBundled.metafile!;
  return {
    rows: [
      { label: 'ours: lambda/dist/on-event/index.js', size: bundleSize(variants.ours.file), modules: moduleCount(oursMeta) },
      { label: 'floor, bundled with the same flags', size: bundleSize(variants.floorBundled.file), modules: moduleCount(floorMeta) },
    ],
    ours: composition(oursMeta),
    floor: composition(floorMeta),
  };
}

const METHOD = [
  'Method. Every figure is the median (min–max) of the runs of one `npm run bench`; every ratio is the median of per-round',
  'ratios of runs made in the same round. Cold Create: a fresh `node` process (spawned from the benchmark, whose emulator',
  'of Lightsail and Secrets Manager listens on 127.0.0.1) requires the handler module, receives one Create event over IPC,',
  'runs it and sends back its result; the time is from spawn() to that message. Phases are measured inside the child',
  '(boot: process start to the first line of the runner; module load: require() of the handler, which builds its SDK clients;',
  'invoke: the handler call). Peak RSS is `process.resourceUsage().maxRSS` in the child when it sends its result. Handlers',
  `run interleaved (A, B, C, D, A, ...), ${COLD_ROUNDS} rounds after one unmeasured warm-up round; every run gets a new bucket`,
  'and secret, and is checked (one key on the bucket, stored in the secret). The latency proxy holds each request',
  `${LATENCY_MS} ms before passing it on (${LATENCY_ROUNDS} rounds). "Unbundled" handlers load \`@aws-sdk/client-*\``,
  'from node_modules through NODE_PATH, as aws-cdk-lib\'s AwsCustomResource handler loads the SDK of the Lambda runtime;',
  '"bundled like ours" uses the exact esbuild flags of the `bundle` script in package.json. Synth: every run in a fresh',
  '`node` process (cold) that loads aws-cdk-lib and lib/index.js, builds one stack of N CfnBuckets with one key each, with',
  `the context of cdk.json, and synthesizes it; ${SYNTH_ROUNDS} interleaved rounds per configuration. "construct + synth" excludes`,
  'process start and the top-level require()s; aws-cdk-lib\'s built-in CloudFormation validation (a WebAssembly engine) is',
  'measured on (the default) and off (`CDK_VALIDATION=false`). "not per key" counts resources other than each key\'s bucket,',
  'custom resource and secret. Rounds of calls: the handler\'s calls go through the latency proxy, which logs when each',
  'request arrived and when its answer went back; a request sent after an answer of the current round came back starts',
  'the next round (it may have waited for that answer). Burst efficiency: one stack of N keys, two per bucket, every Create',
  `sent at once through the Provider framework (N handler processes), Lightsail limited by the emulator's token bucket`,
  `(${BURST_LIMIT.ratePerSecond} requests/s, burst ${BURST_LIMIT.burst}, full at the start); time from sending the events to the last`,
  'response; ideal = (Lightsail calls served − burst) ÷ rate, the least time the bucket allows for the calls the Creates',
  'made (it leaves out the cold starts of N processes: "without the limit" is the same burst, unthrottled, just before);',
  'one run per N.',
].join('\n');

interface Sections {
  readonly cold: ColdSections;
  readonly loadAverages: readonly string[];
  readonly calls: Awaited<ReturnType<typeof countApiCalls>>;
  readonly burst: Awaited<ReturnType<typeof burstEfficiency>>;
  readonly bundles: BundleResults;
  readonly synth: Awaited<ReturnType<typeof synthScaling>>;
  readonly seconds: number;
}

function targets(sections: Sections): TargetCheck[] {
  return [
    ...coldRatios(sections.cold.local).checks,
    ...coldRatios(sections.cold.delayed, `${LATENCY_MS} ms latency`).checks,
    callsCheck(sections.calls),
    deleteRoundsCheck(sections.calls),
    ...burstChecks(sections.burst),
    ...synthRatios(sections.synth).checks,
  ];
}

function document(sections: Sections): string {
  const cold = coldRatios(sections.cold.local);
  const delayed = coldRatios(sections.cold.delayed, `${LATENCY_MS} ms latency`);
  const synth = synthRatios(sections.synth);
  return [
    '# Benchmark results',
    '',
    `Latest \`npm run bench\` (${sections.seconds.toFixed(0)} s in all), on:`,
    '',
    ...machineLines(describeMachine()),
    `- load average (1, 5, 15 min) at the start: ${sections.loadAverages[0]}; at the end: ${sections.loadAverages[1]}`,
    '',
    '## Targets',
    '',
    targetsTable(targets(sections)),
    '',
    '## Cold Create against the local emulator',
    '',
    coldTable(sections.cold.local),
    '',
    cold.table,
    '',
    `## Cold Create with ${LATENCY_MS} ms added to every call (latency proxy: a stand-in for real endpoints)`,
    '',
    coldTable(sections.cold.delayed),
    '',
    delayed.table,
    '',
    `## API calls per event (counted at the emulator; rounds through the ${LATENCY_MS} ms latency proxy)`,
    '',
    callsTable(sections.calls),
    '',
    `## Burst efficiency: keys created at once against a throttling Lightsail`,
    '',
    burstTable(sections.burst),
    '',
    '## Handler bundle',
    '',
    bundleTables(sections.bundles),
    '',
    '## Synth (fresh process per run)',
    '',
    synthTable(sections.synth),
    '',
    synth.table,
    '',
    METHOD,
    '',
  ].join('\n');
}

function writeResults(markdown: string): void {
  const previous = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, 'utf-8') : '';
  const at = previous.indexOf(END_MARKER);
  const kept = at >= 0 ? previous.slice(at + END_MARKER.length) : '\n';
  fs.writeFileSync(RESULTS_FILE, `${markdown}\n${END_MARKER}${kept}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const startLoad = loadAverage();
  progress('compiling the handler variants with esbuild');
  const variants = buildVariants();
  try {
    const bundles = bundleSection(variants);
    const cold = await coldSection(variants);
    progress(`API calls and round trips per event, through the Provider framework and a ${LATENCY_MS} ms latency proxy`);
    const calls = await withEmulator(async (emulator) => {
      const proxy = await startLatencyProxy(emulator.endpoint, LATENCY_MS);
      try {
        return await countApiCalls(emulator, proxy);
      } finally {
        await proxy.stop();
      }
    });
    progress(`burst efficiency: ${BURST_KEYS.join(' and ')} keys created at once, Lightsail at ${BURST_LIMIT.ratePerSecond} requests/s`);
    const burst = await withEmulator((emulator) => burstEfficiency(emulator, BURST_KEYS, BURST_LIMIT));
    progress(`synth: ${SYNTH_ROUNDS} interleaved rounds of ${SYNTH_CONFIGS.length} configurations, each in a fresh process`);
    const synth = await synthScaling(SYNTH_CONFIGS, SYNTH_ROUNDS);
    const loadAverages = [startLoad, loadAverage()];
    const sections = { cold, calls, burst, bundles, synth, loadAverages, seconds: (performance.now() - started) / 1000 };
    const markdown = document(sections);
    console.log(markdown);
    writeResults(markdown);
    for (const check of targets(sections)) {
      progress(`${check.met ? 'PASS' : 'FAIL'}  ${check.target}: ${check.measured}`);
    }
    progress(`written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
  } finally {
    removeVariants(variants);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
