/**
 * ministack (installed by install.sh into .engines/venv-ministack) as a child process of the test, on
 * 127.0.0.1 and a free port, with every byte it prints kept for the leak check.
 *
 * What its configuration does (read in ministack 1.5.33's source, ministack/app.py and
 * ministack/core/lambda_runtime.py):
 * - `GATEWAY_PORT` is the port (default 4566); `BIND_HOST` the interface, default `0.0.0.0`: set to
 *   127.0.0.1. The IoT MQTT listener binds `0.0.0.0:8883` unless `IOT_MTLS_ENABLED=0` (it needs the
 *   `cryptography` package, not installed here; off anyway), the Transfer SFTP listener `SFTP_HOST`
 *   (default 0.0.0.0) only for a Transfer server: `SFTP_ENABLED=0`.
 * - Lambda functions run as local `node` processes (`LAMBDA_EXECUTOR=local`, the default) whose
 *   environment is ministack's own environment overlaid with the function's `Environment.Variables`;
 *   ministack adds `AWS_ENDPOINT_URL` (itself) when neither sets it. So `AWS_ENDPOINT_URL_LIGHTSAIL` in
 *   ministack's environment sends the handler's Lightsail calls to local/'s emulator, and everything
 *   else (Secrets Manager, the framework's Lambda invoke) to ministack, without touching the template.
 * - Persistence is off unless `PERSIST_STATE=1`; state and scratch directories (`STATE_DIR`,
 *   `S3_DATA_DIR`, `TMPDIR`: the functions' unpacked code) are pointed into a directory of this run.
 * - Without a Docker socket it never talks to a Docker daemon: `DOCKER_HOST` names one that does not exist.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const REPO = path.join(__dirname, '..', '..', '..');
export const MINISTACK_BIN = path.join(REPO, '.engines', 'venv-ministack', 'bin', 'ministack');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
/** Files larger than this in ministack's directory (none expected) are not read for the leak check. */
const MAX_SCANNED_FILE_BYTES = 20 * 1024 * 1024;

export interface MinistackOptions {
  /** Where the functions ministack runs send their Lightsail calls. */
  readonly lightsailEndpoint: string;
  readonly region: string;
}

export interface CapturedText {
  readonly where: string;
  readonly text: string;
}

export class Ministack {
  static async start(options: MinistackOptions): Promise<Ministack> {
    if (!fs.existsSync(MINISTACK_BIN)) {
      throw new Error(`ministack is not installed (${MINISTACK_BIN} is missing): run bash test/engines/ministack/install.sh`);
    }
    const port = await freePort();
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ministack-engine-'));
    const child = spawn(MINISTACK_BIN, [], {
      cwd: workDir,
      env: ministackEnvironment(port, workDir, options),
      // Its own process group: stop() ends ministack and the function processes it started, and only those.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ministack = new Ministack(child, port, workDir);
    try {
      await ministack.waitUntilHealthy();
    } catch (error) {
      await ministack.stop();
      throw error;
    }
    return ministack;
  }

  readonly endpoint: string;
  private readonly chunks: string[] = [];
  private readonly exited: Promise<void>;
  private exitCode: number | null | undefined;

  private constructor(private readonly child: ChildProcess, port: number, readonly workDir: string) {
    this.endpoint = `http://127.0.0.1:${port}`;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.chunks.push(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.chunks.push(chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code) => {
      this.exitCode = code;
      resolve();
    }));
  }

  /** Everything ministack printed so far (its log and the functions' output). */
  output(): string {
    return this.chunks.join('');
  }

  /** Every file ministack wrote in its directory: the functions' code, any log or state file. */
  files(): CapturedText[] {
    return listFiles(this.workDir)
      .filter((file) => fs.statSync(file).size <= MAX_SCANNED_FILE_BYTES)
      .map((file) => ({ where: file, text: fs.readFileSync(file).toString('latin1') }));
  }

  /** Ends ministack's process group (SIGTERM, then SIGKILL), and waits for ministack to exit. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined || this.child.pid === undefined) {
      return;
    }
    this.signalGroup('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
    if (await Promise.race([this.exited.then(() => 'exited' as const), timer]) === 'timeout') {
      this.signalGroup('SIGKILL');
      await this.exited;
    }
    // Function processes outlive a ministack killed by SIGKILL: end what is left of the group.
    this.signalGroup('SIGKILL');
  }

  removeWorkDir(): void {
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  }

  private async waitUntilHealthy(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(`ministack exited with code ${this.exitCode} before it was healthy:\n${this.output()}`);
      }
      try {
        const response = await fetch(`${this.endpoint}/_ministack/health`);
        if (response.ok) {
          return;
        }
      } catch {
        // Not listening yet.
      }
      await new Promise((wake) => setTimeout(wake, 250));
    }
    throw new Error(`ministack was not healthy after ${START_TIMEOUT_MS / 1000} s:\n${this.output()}`);
  }
}

function ministackEnvironment(port: number, workDir: string, options: MinistackOptions): NodeJS.ProcessEnv {
  return {
    // The functions run `node` from the PATH.
    PATH: process.env.PATH ?? '',
    HOME: workDir,
    TMPDIR: workDir,
    PYTHONUNBUFFERED: '1',
    LOG_LEVEL: 'INFO',
    BIND_HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    IOT_MTLS_ENABLED: '0',
    SFTP_ENABLED: '0',
    SFTP_HOST: '127.0.0.1',
    LAMBDA_EXECUTOR: 'local',
    DOCKER_HOST: `unix://${path.join(workDir, 'no-docker.sock')}`,
    PERSIST_STATE: '0',
    STATE_DIR: path.join(workDir, 'state'),
    S3_DATA_DIR: path.join(workDir, 's3'),
    MINISTACK_REGION: options.region,
    // Inherited by the functions' processes: Lightsail is local/'s, everything else ministack's.
    AWS_ENDPOINT_URL_LIGHTSAIL: options.lightsailEndpoint,
  };
}

function listFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      return listFiles(file);
    }
    return entry.isFile() ? [file] : [];
  });
}

/** A port nothing listens on now (the OS picks it); ministack binds it right after. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
