/** The markdown tables of a benchmark run. Figures: median (min–max) over the runs. */
import { EventCalls, readRounds } from './api-calls';
import type { BurstSample } from './burst';
import type { BundleSize, PackageShare } from './bundle';
import type { ColdSample } from './cold-create';
import { Summary, formatRatio, formatSummary, kib, markdownTable, pairedRatios, summarize } from './stats';
import { SynthSample, sharedResources } from './synth-scaling';
import type { Variant } from './variants';

export interface ColdResults {
  readonly ours: Variant;
  readonly awsCustomResourceStyle: Variant;
  readonly floorBundled: Variant;
  readonly floorUnbundled: Variant;
  readonly samples: Map<string, ColdSample[]>;
}

export interface BundleResults {
  readonly rows: ReadonlyArray<{ readonly label: string; readonly size: BundleSize; readonly modules: number }>;
  readonly ours: PackageShare[];
  readonly floor: PackageShare[];
}

/** One line of the targets table, also used for the console summary. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

function verdict(met: boolean): string {
  return met ? 'met' : '**missed**';
}

function of<T>(samples: readonly T[], pick: (sample: T) => number): Summary {
  return summarize(samples.map(pick));
}

function callCount(sample: ColdSample): string {
  const mutating = sample.operations.filter((operation) => ['CreateBucketAccessKey', 'PutSecretValue'].includes(operation)).length;
  return `${sample.operations.length} (${mutating} mutating)`;
}

export function coldTable(cold: ColdResults): string {
  const variants = [cold.ours, cold.awsCustomResourceStyle, cold.floorBundled, cold.floorUnbundled];
  const rows = variants.map((variant) => {
    const samples = cold.samples.get(variant.id)!;
    return [
      variant.label,
      callCount(samples[0]),
      formatSummary(of(samples, (s) => s.wallMs)),
      formatSummary(of(samples, (s) => s.bootMs)),
      formatSummary(of(samples, (s) => s.loadMs)),
      formatSummary(of(samples, (s) => s.invokeMs)),
      formatSummary(of(samples, (s) => s.maxRssKb / 1024), 1),
    ];
  });
  return markdownTable(
    ['handler', 'API calls', 'cold Create, spawn → result (ms)', 'Node.js boot (ms)', 'module load (ms)', 'invoke (ms)', 'peak RSS (MiB)'],
    rows,
  );
}

function coldRatio(cold: ColdResults, numerator: Variant, denominator: Variant): Summary {
  const wall = (variant: Variant): number[] => cold.samples.get(variant.id)!.map((sample) => sample.wallMs);
  return summarize(pairedRatios(wall(numerator), wall(denominator)));
}

/** `condition` names the setting when the checks are targets of a variant run (e.g. "20 ms latency"). */
export function coldRatios(cold: ColdResults, condition?: string): { table: string; checks: TargetCheck[] } {
  const vsAcr = coldRatio(cold, cold.ours, cold.awsCustomResourceStyle);
  const vsFloor = coldRatio(cold, cold.ours, cold.floorBundled);
  const under = condition === undefined ? '' : `, ${condition}`;
  const checks: TargetCheck[] = [
    { target: `cold Create ≤ 0.8× AwsCustomResource-style${under}`, measured: formatRatio(vsAcr), met: vsAcr.median <= 0.8 },
    { target: `cold Create ≤ 1.2× floor (bundled like ours)${under}`, measured: formatRatio(vsFloor), met: vsFloor.median <= 1.2 },
  ];
  const info = (label: string, numerator: Variant, denominator: Variant): string[] =>
    [label, formatRatio(coldRatio(cold, numerator, denominator)), '—', '—'];
  const table = markdownTable(['comparison (per-round ratio of spawn → result)', 'ratio', 'target', 'result'], [
    ['ours ÷ AwsCustomResource-style', formatRatio(vsAcr), '≤ 0.80×', verdict(checks[0].met)],
    ['ours ÷ floor, bundled like ours', formatRatio(vsFloor), '≤ 1.20×', verdict(checks[1].met)],
    info('ours ÷ floor, SDK unbundled', cold.ours, cold.floorUnbundled),
    info('AwsCustomResource-style ÷ floor, SDK unbundled (cost of the 3 reads, unbundled)', cold.awsCustomResourceStyle, cold.floorUnbundled),
    info('floor unbundled ÷ floor bundled (cost of loading the SDK unbundled)', cold.floorUnbundled, cold.floorBundled),
  ]);
  return { table, checks };
}

function listed(operations: string[]): string {
  return operations.length === 0 ? '0' : `${operations.length}: ${operations.join(', ')}`;
}

function roundsText(row: EventCalls): string {
  if (row.keyCall === undefined) {
    return '—';
  }
  const rounds = row.roundsBeforeKeyCall.map((round) => `[${round.join(', ')}]`);
  return `${rounds.length} before ${row.keyCall}${rounds.length === 0 ? '' : `: ${rounds.join(' → ')}`}`;
}

export function callsTable(rows: readonly EventCalls[]): string {
  return markdownTable(
    ['event (through the Provider framework)', 'mutating calls', 'reads', 'floor (mutating)', 'rounds of calls before the key call'],
    rows.map((row) => [row.event, listed(row.mutating), listed(row.reads), row.floor, roundsText(row)]),
  );
}

/** Every Delete that deletes a key waits for at most one round of reads before it does. */
export function deleteRoundsCheck(rows: readonly EventCalls[]): TargetCheck {
  const deletes = rows.filter((row) => row.keyCall === 'DeleteBucketAccessKey');
  return {
    target: 'Delete makes at most one round of reads before DeleteBucketAccessKey',
    measured: deletes.map((row) => `${row.event.split(' (')[0]} ${readRounds(row)}`).join('; '),
    met: deletes.length > 0 && deletes.every((row) => readRounds(row) <= 1),
  };
}

/** Mutating calls per event against the floor's count (the leading number of its floor text). */
export function callsCheck(rows: readonly EventCalls[]): TargetCheck {
  const over = rows.filter((row) => row.mutating.length > Number.parseInt(row.floor, 10));
  return {
    target: 'mutating API calls at the floor for every event',
    measured: rows.map((row) => `${row.event.split(' (')[0]} ${row.mutating.length}`).join('; '),
    met: over.length === 0,
  };
}

export function bundleTables(bundles: BundleResults, top = 10): string {
  const sizes = markdownTable(['bundle', 'raw', 'gzip -9', 'modules'],
    bundles.rows.map((row) => [row.label, kib(row.size.rawBytes), kib(row.size.gzipBytes), String(row.modules)]));
  const floorBytes = new Map(bundles.floor.map((share) => [share.name, share.bytes]));
  const parts = markdownTable(['package (esbuild metafile, bytes in output)', 'ours', 'floor'],
    bundles.ours.slice(0, top).map((share) => [share.name, kib(share.bytes), kib(floorBytes.get(share.name) ?? 0)]));
  return `${sizes}\n\n${parts}`;
}

function totalResources(sample: SynthSample): number {
  return Object.values(sample.types).reduce((sum, count) => sum + count, 0);
}

function synthRow(samples: readonly SynthSample[]): string[] {
  const first = samples[0];
  return [
    String(first.keys),
    first.validation ? 'on' : 'off',
    formatSummary(of(samples, (s) => s.constructMs + s.synthMs)),
    formatSummary(of(samples, (s) => s.wallMs)),
    String(totalResources(first)),
    String(sharedResources(first)),
    String(first.types['AWS::IAM::ManagedPolicy'] ?? 0),
    kib(first.templateBytes),
    formatSummary(of(samples, (s) => s.maxRssKb / 1024), 0),
  ];
}

export function synthTable(groups: ReadonlyArray<readonly SynthSample[]>): string {
  return markdownTable([
    'keys', 'built-in validation', 'construct + synth (ms)', 'fresh process, spawn → result (ms)', 'resources',
    'not per key', 'of which IAM::ManagedPolicy', 'template', 'peak RSS (MiB)',
  ], groups.map(synthRow));
}

function synthRatio(large: readonly SynthSample[], small: readonly SynthSample[], pick: (s: SynthSample) => number): Summary {
  return summarize(pairedRatios(large.map(pick), small.map(pick)));
}

/** 100 vs 1 and 10 vs 1 keys, per validation setting; groups ordered as synthTable's. */
export function synthRatios(groups: ReadonlyArray<readonly SynthSample[]>): { table: string; checks: TargetCheck[] } {
  const rows: string[][] = [];
  const checks: TargetCheck[] = [];
  const find = (keys: number, validation: boolean): readonly SynthSample[] | undefined =>
    groups.find((group) => group[0].keys === keys && group[0].validation === validation);
  for (const validation of [true, false]) {
    const one = find(1, validation);
    for (const keys of [10, 100]) {
      const many = find(keys, validation);
      if (!one || !many) {
        continue;
      }
      const core = synthRatio(many, one, (s) => s.constructMs + s.synthMs);
      const total = synthRatio(many, one, (s) => s.wallMs);
      const judged = keys === 100;
      rows.push([`${keys} ÷ 1 keys, validation ${validation ? 'on' : 'off'}`, formatRatio(core), formatRatio(total),
        judged ? '≤ 3×' : '—', judged ? verdict(core.median <= 3) : '—']);
      if (judged) {
        checks.push({ target: `synth 100 keys ≤ 3× 1 key (validation ${validation ? 'on' : 'off'})`, measured: formatRatio(core), met: core.median <= 3 });
      }
    }
    if (one && find(100, validation)) {
      const shared = [sharedResources(one[0]), sharedResources(find(100, validation)![0])];
      checks.push({
        target: `resources not per key stay constant, 1 → 100 keys (validation ${validation ? 'on' : 'off'})`,
        measured: `${shared[0]} → ${shared[1]}`,
        met: shared[0] === shared[1],
      });
    }
  }
  const table = markdownTable(['comparison (per-round ratio)', 'construct + synth', 'fresh process total', 'target', 'result'], rows);
  return { table, checks };
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return markdownTable(['target', 'measured (median, min–max)', 'result'], checks.map((check) => [check.target, check.measured, verdict(check.met)]));
}

function rateText(sample: BurstSample): string {
  return `${sample.limit.ratePerSecond}/s, burst ${sample.limit.burst}`;
}

/** Measured time over the token bucket's floor; Infinity when that floor is 0. */
function burstRatio(sample: BurstSample): number {
  return sample.idealMs > 0 ? sample.elapsedMs / sample.idealMs : Infinity;
}

export function burstTable(samples: readonly BurstSample[]): string {
  return markdownTable(
    ['keys created at once', 'Lightsail rate', 'time (s)', 'without the limit (s)', 'Lightsail calls served', 'throttled', 'ideal (s)', 'time ÷ ideal',
      'failed Creates', 'keys made'],
    samples.map((sample) => [
      String(sample.keys), rateText(sample), (sample.elapsedMs / 1000).toFixed(1), (sample.unlimitedMs / 1000).toFixed(1),
      String(sample.servedCalls), String(sample.throttledCalls),
      (sample.idealMs / 1000).toFixed(1), `${burstRatio(sample).toFixed(2)}×`, String(sample.failures.length), String(sample.keysMade),
    ]),
  );
}

export function burstChecks(samples: readonly BurstSample[]): TargetCheck[] {
  return samples.map((sample) => ({
    target: `${sample.keys} keys created at once at ${rateText(sample)}: ≤ 1.5× ideal, no failure`,
    measured: `${burstRatio(sample).toFixed(2)}×, ${sample.failures.length} of ${sample.keys} failed`,
    met: burstRatio(sample) <= 1.5 && sample.failures.length === 0 && sample.keysMade === sample.keys,
  }));
}
