/**
 * An HTTP proxy in front of the emulator that holds every request for a fixed time before
 * forwarding it: a stand-in for the network round trip and service time of a real AWS endpoint
 * (the emulator itself answers in about a millisecond).
 */
import { IncomingMessage, Server, ServerResponse, createServer, request } from 'http';
import type { AddressInfo } from 'net';

export interface LatencyProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  stop(): Promise<void>;
}

function forward(upstream: URL, incoming: IncomingMessage, body: Buffer, response: ServerResponse): void {
  const outgoing = request({
    host: upstream.hostname,
    port: upstream.port,
    method: incoming.method,
    path: incoming.url,
    headers: incoming.headers,
  }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  outgoing.on('error', () => response.destroy());
  outgoing.end(body);
}

export async function startLatencyProxy(upstreamEndpoint: string, delayMs: number): Promise<LatencyProxy> {
  const upstream = new URL(upstreamEndpoint);
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        forward(upstream, incoming, Buffer.concat(chunks), response);
      }, delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      timers.forEach((timer) => clearTimeout(timer));
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
