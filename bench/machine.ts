/** The machine and the versions a benchmark ran with. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './variants';

export interface Machine {
  readonly date: string;
  readonly cpuModel: string;
  readonly nproc: number;
  readonly memory: string;
  readonly node: string;
  readonly os: string;
  readonly versions: string;
  readonly revision: string;
}

function cpuModel(): string {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf-8').split('\n').find((text) => text.startsWith('model name'));
    return line ? line.split(':')[1].trim() : os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function installedVersion(name: string): string {
  const manifest = path.join(ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf-8')) as { version: string }).version;
}

/** The commit measured, and whether the handler or library sources differ from it. */
function revision(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'lambda', 'lib', 'package.json') !== '';
    return dirty ? `${commit} with uncommitted changes in lambda/, lib/ or package.json` : commit;
  } catch {
    return process.env.BENCH_REVISION ?? 'unknown (not a git checkout)';
  }
}

export function describeMachine(): Machine {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpuModel: cpuModel(),
    nproc: os.availableParallelism(),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    versions: ['aws-cdk-lib', '@aws-sdk/client-lightsail', '@aws-sdk/client-secrets-manager', 'esbuild']
      .map((name) => `${name} ${installedVersion(name)}`).join(', '),
    revision: revision(),
  };
}

export function machineLines(machine: Machine): string[] {
  return [
    `- date: ${machine.date}; sources: ${machine.revision}`,
    `- CPU: ${machine.cpuModel}; nproc: ${machine.nproc}; memory: ${machine.memory}`,
    `- Node.js ${machine.node} on ${machine.os}`,
    `- ${machine.versions}`,
  ];
}

/** The 1, 5 and 15 minute load averages: other work on the machine makes figures noisy. */
export function loadAverage(): string {
  return os.loadavg().map((load) => load.toFixed(2)).join(', ');
}
