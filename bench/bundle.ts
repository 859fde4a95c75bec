/** Bundle sizes (raw and gzip) and what a bundle is made of, from an esbuild metafile. */
import * as fs from 'fs';
import * as zlib from 'zlib';

export interface BundleSize {
  readonly rawBytes: number;
  /** zlib gzip at level 9 (`gzip -9`). */
  readonly gzipBytes: number;
}

export interface PackageShare {
  /** npm package name, or "own code" for files outside node_modules. */
  readonly name: string;
  readonly bytes: number;
  readonly modules: number;
}

interface Metafile {
  readonly outputs: Record<string, { readonly bytes: number; readonly inputs: Record<string, { readonly bytesInOutput: number }> }>;
}

export function bundleSize(file: string): BundleSize {
  const contents = fs.readFileSync(file);
  return { rawBytes: contents.length, gzipBytes: zlib.gzipSync(contents, { level: 9 }).length };
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match ? match[1] : 'own code';
}

/** Bytes in the output by package, largest first. */
export function composition(metafile: string): PackageShare[] {
  const meta = JSON.parse(fs.readFileSync(metafile, 'utf-8')) as Metafile;
  const shares = new Map<string, { bytes: number; modules: number }>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const share = shares.get(packageOf(input)) ?? { bytes: 0, modules: 0 };
      share.bytes += bytesInOutput;
      share.modules += 1;
      shares.set(packageOf(input), share);
    }
  }
  return Array.from(shares.entries()).map(([name, share]) => ({ name, ...share })).sort((a, b) => b.bytes - a.bytes);
}

/** Whether two files have the same bytes (the shipped bundle is the one the sources build). */
export function sameBytes(a: string, b: string): boolean {
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}
