/**
 * The real CDK CLI (node_modules/.bin/cdk, the aws-cdk devDependency) pointed at ministack with
 * AWS_ENDPOINT_URL and fake credentials. It runs the variant app through ts-node, from the repository
 * root, so cdk.json's context applies as it does to bin/example-app.ts.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REPO = path.join(__dirname, '..', '..', '..');
const CDK_BIN = path.join(REPO, 'node_modules', '.bin', 'cdk');
const TS_NODE_BIN = path.join(REPO, 'node_modules', '.bin', 'ts-node');
const APP = `${TS_NODE_BIN} --transpile-only --project test/tsconfig.json test/engines/ministack/app.ts`;

export interface CdkRun {
  readonly command: string;
  readonly code: number | null;
  /** stdout and stderr, interleaved as printed. */
  readonly output: string;
}

export interface AppContext {
  readonly bucketName: string;
  readonly serial: number;
  readonly failAfterKey?: boolean;
}

export class CdkCli {
  /** Every run so far, for the leak check. */
  readonly runs: CdkRun[] = [];
  /** The cloud assembly (cdk.out) of the runs. */
  readonly outDir: string;
  private readonly home: string;
  private readonly running = new Set<ChildProcess>();

  constructor(private readonly endpoint: string, private readonly region: string, private readonly account: string) {
    this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'ministack-engine-cdk-'));
    this.outDir = path.join(this.home, 'cdk.out');
  }

  bootstrap(): Promise<CdkRun> {
    return this.run(['bootstrap', `aws://${this.account}/${this.region}`]);
  }

  deploy(context: AppContext): Promise<CdkRun> {
    return this.run(['deploy', '--require-approval', 'never', '--progress', 'events', '--app', APP, ...contextArgs(context)]);
  }

  destroy(context: AppContext): Promise<CdkRun> {
    return this.run(['destroy', '--force', '--app', APP, ...contextArgs(context)]);
  }

  /** Ends a run still going (a test that timed out): the CLI would otherwise poll a stopped ministack. */
  stopRunning(): void {
    this.running.forEach((child) => child.kill('SIGTERM'));
  }

  removeHome(): void {
    fs.rmSync(this.home, { recursive: true, force: true });
  }

  private run(args: string[]): Promise<CdkRun> {
    const fullArgs = [...args, '--no-notices', '--output', this.outDir];
    const command = `cdk ${fullArgs.join(' ')}`;
    return new Promise((resolve, reject) => {
      const chunks: string[] = [];
      const child = spawn(CDK_BIN, fullArgs, { cwd: REPO, env: this.environment(), stdio: ['ignore', 'pipe', 'pipe'] });
      this.running.add(child);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
      child.once('error', reject);
      child.once('close', (code) => {
        this.running.delete(child);
        const run = { command, code, output: chunks.join('') };
        this.runs.push(run);
        resolve(run);
      });
    });
  }

  /** Only what the CLI needs: no credentials, profile or endpoint of the machine leaks in. */
  private environment(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '',
      HOME: this.home,
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CI: 'true',
    };
  }
}

function contextArgs(context: AppContext): string[] {
  return [
    '-c', `bucketName=${context.bucketName}`,
    '-c', `serial=${context.serial}`,
    ...(context.failAfterKey ? ['-c', 'failAfterKey=true'] : []),
  ];
}
