/** Medians with min and max, and the formatting of figures for the markdown tables. */

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) {
    throw new Error('no values to summarize');
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** Ratios of paired runs (same round of the same benchmark run): numerator[i] / denominator[i]. */
export function pairedRatios(numerators: readonly number[], denominators: readonly number[]): number[] {
  if (numerators.length !== denominators.length) {
    throw new Error(`cannot pair ${numerators.length} runs with ${denominators.length}`);
  }
  return numerators.map((value, index) => value / denominators[index]);
}

/** "123 (110–140)" with the given number of decimals. */
export function formatSummary(summary: Summary, decimals = 0, unit = ''): string {
  const figure = (value: number): string => `${value.toFixed(decimals)}${unit}`;
  return `${figure(summary.median)} (${figure(summary.min)}–${figure(summary.max)})`;
}

export function formatRatio(summary: Summary): string {
  return `${summary.median.toFixed(2)}× (${summary.min.toFixed(2)}–${summary.max.toFixed(2)})`;
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A markdown table; every row must have as many cells as the header. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  for (const row of rows) {
    if (row.length !== header.length) {
      throw new Error(`row "${row.join(', ')}" has ${row.length} cells, the header ${header.length}`);
    }
  }
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
