/**
 * moto's server (`moto_server`, installed by install.sh into .engines/venv-moto) on 127.0.0.1, on a
 * free port, started and stopped by the test that needs it. stop() kills it; so does the exit of
 * the jest process, in case a test never reaches afterAll.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const MOTO_SERVER = join(__dirname, '..', '..', '..', '.engines', 'venv-moto', 'bin', 'moto_server');
const STARTUP_MS = 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    // moto's own API: what it has recorded; any answer means the server is up.
    const response = await fetch(`${endpoint}/moto-api/data.json`);
    return response.ok;
  } catch {
    return false;
  }
}

export class MotoServer {
  static async start(): Promise<MotoServer> {
    if (!existsSync(MOTO_SERVER)) {
      throw new Error(`moto is not installed at ${MOTO_SERVER}: run bash test/engines/install.sh`);
    }
    const port = await freePort();
    const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new MotoServer(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + STARTUP_MS;
    while (!(await answers(server.endpoint))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        server.stop();
        throw new Error(`moto_server did not start on ${server.endpoint} (exit ${child.exitCode}): ${server.stderr.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return server;
  }

  private stderr = '';
  private readonly killOnExit = () => this.stop();

  private constructor(private readonly child: ChildProcess, readonly endpoint: string) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-20_000);
    });
    process.once('exit', this.killOnExit);
  }

  /** Kills the server (SIGKILL: it holds nothing worth a clean shutdown). */
  stop(): void {
    process.off('exit', this.killOnExit);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
  }
}
