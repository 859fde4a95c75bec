/**
 * An HTTP proxy in front of the emulator that holds every request for a fixed time before
 * forwarding it: a stand-in for the network round trip and service time of a real AWS endpoint
 * (the emulator itself answers in about a millisecond).
 */
import { IncomingMessage, Server, ServerResponse, createServer, request } from 'http';
import type { AddressInfo } from 'net';
import { performance } from 'perf_hooks';

/** One request that went through the proxy; times from performance.now(). */
export interface ProxiedRequest {
  /** X-Amz-Target's operation (after the service prefix), or the HTTP method and path for S3. */
  readonly operation: string;
  /** When the request had fully arrived at the proxy. */
  readonly receivedAt: number;
  /** When its answer had been passed back in full; undefined while it is pending. */
  answeredAt?: number;
}

export interface LatencyProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** Every request so far, in order of arrival. */
  readonly requests: ProxiedRequest[];
  stop(): Promise<void>;
}

function operationOf(incoming: IncomingMessage): string {
  const target = incoming.headers['x-amz-target'];
  return typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : `${incoming.method} ${incoming.url}`;
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
  const requests: ProxiedRequest[] = [];
  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const logged: ProxiedRequest = { operation: operationOf(incoming), receivedAt: performance.now() };
      requests.push(logged);
      response.on('finish', () => {
        logged.answeredAt = performance.now();
      });
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
    requests,
    stop: () => new Promise<void>((resolve) => {
      timers.forEach((timer) => clearTimeout(timer));
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
