/**
 * The handlers compared in the cold-Create benchmark, compiled into a temporary folder with the
 * esbuild of node_modules. "Bundled the same way as our handler" means with the exact flags of
 * package.json's `bundle` script; "unbundled" leaves every package external, so the SDK is loaded
 * from node_modules (NODE_PATH) at run time, as the Lambda runtime serves it to AwsCustomResource.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..');
export const SHIPPED_HANDLER = path.join(ROOT, 'lambda', 'dist', 'on-event', 'index.js');
const HANDLER_ENTRY = 'lambda/on-event.ts';
const ESBUILD = path.join(ROOT, 'node_modules', '.bin', 'esbuild');

export interface Variant {
  readonly id: string;
  readonly label: string;
  /** The compiled handler module; its export `handler` is invoked. */
  readonly file: string;
  /** esbuild metafile of the build, when it is a bundle. */
  readonly metafile?: string;
}

export interface Variants {
  readonly ours: Variant;
  readonly awsCustomResourceStyle: Variant;
  readonly floorBundled: Variant;
  readonly floorUnbundled: Variant;
  /** Our handler rebuilt from source with the same flags plus a metafile, for the analysis. */
  readonly oursRebuilt: Variant;
  readonly directory: string;
}

/**
 * The flags of `npm run bundle`, without its entry points and output options (the script may bundle
 * several handlers with --outdir and --entry-names; each variant here is built on its own).
 */
export function handlerBundleFlags(): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf-8')) as { scripts: Record<string, string> };
  const words = manifest.scripts.bundle.split(/\s+/).filter((word) => word !== '');
  if (words[0] !== 'esbuild' || !words.includes(HANDLER_ENTRY)) {
    throw new Error(`package.json's bundle script is not "esbuild ${HANDLER_ENTRY} ...": ${manifest.scripts.bundle}`);
  }
  return words.slice(1).filter((word) => word.startsWith('-') && !/^--(outfile|outdir|outbase|entry-names)=/.test(word));
}

const UNBUNDLED_FLAGS = ['--bundle', '--packages=external', '--platform=node', '--format=cjs', '--target=node22'];

function esbuild(entry: string, outfile: string, flags: string[], metafile?: string): void {
  const args = [entry, ...flags, `--outfile=${outfile}`, '--log-level=warning', ...(metafile ? [`--metafile=${metafile}`] : [])];
  const result = spawnSync(ESBUILD, args, { cwd: ROOT, encoding: 'utf-8' });
  if (result.status !== 0) {
    throw new Error(`esbuild ${args.join(' ')} failed:\n${result.stderr}`);
  }
}

function bundled(directory: string, id: string, label: string, entry: string): Variant {
  const file = path.join(directory, `${id}.js`);
  const metafile = path.join(directory, `${id}.meta.json`);
  esbuild(entry, file, handlerBundleFlags(), metafile);
  return { id, label, file, metafile };
}

function unbundled(directory: string, id: string, label: string, entry: string): Variant {
  const file = path.join(directory, `${id}.js`);
  esbuild(entry, file, UNBUNDLED_FLAGS);
  return { id, label, file };
}

/** Compiles every variant into a fresh temporary folder. */
export function buildVariants(): Variants {
  if (!fs.existsSync(SHIPPED_HANDLER) || !fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) {
    throw new Error('lambda/dist/on-event/index.js or lib/index.js is missing: run `npm run build` first');
  }
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-variants-'));
  try {
    return {
      directory,
      ours: { id: 'ours', label: 'our handler (lambda/dist, bundled)', file: SHIPPED_HANDLER },
      awsCustomResourceStyle: unbundled(directory, 'acr-style', 'AwsCustomResource-style (same calls, SDK unbundled)', 'bench/handlers/sdk-unbundled.ts'),
      floorBundled: bundled(directory, 'floor-bundled', 'floor (2 calls, bundled like ours)', 'bench/handlers/floor.ts'),
      floorUnbundled: unbundled(directory, 'floor-unbundled', 'floor (2 calls, SDK unbundled)', 'bench/handlers/floor.ts'),
      oursRebuilt: bundled(directory, 'ours-rebuilt', 'our handler rebuilt with a metafile', HANDLER_ENTRY),
    };
  } catch (error) {
    fs.rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}

export function removeVariants(variants: Variants): void {
  fs.rmSync(variants.directory, { recursive: true, force: true });
}
