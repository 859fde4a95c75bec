/** awsJson1_1 over HTTP: routing by X-Amz-Target, request bodies, JSON answers. */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ServiceError, commonError, protocolError } from './errors';
import { newUuid } from './ids';
import type { JsonObject, ServiceName } from './types';

const TARGET_PREFIXES: ReadonlyArray<[string, ServiceName]> = [
  ['Lightsail_20161128.', 'lightsail'],
  ['secretsmanager.', 'secretsmanager'],
];

export interface Route {
  readonly service: ServiceName;
  readonly operation: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The service and operation named by X-Amz-Target. */
export function routeOf(method: string | undefined, headers: IncomingHttpHeaders): Route {
  const target = header(headers, 'x-amz-target') ?? '';
  const match = TARGET_PREFIXES.find(([prefix]) => target.startsWith(prefix));
  if (method !== 'POST' || !match || target.length === match[0].length) {
    throw commonError('UnknownOperationException', `Unknown operation: ${method ?? ''} ${target}`);
  }
  return { service: match[1], operation: target.slice(match[0].length) };
}

/** Signatures are not verified, but a request must be signed. */
export function checkAuthorization(headers: IncomingHttpHeaders): void {
  const authorization = header(headers, 'authorization') ?? '';
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    throw commonError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  }
}

export function parseInput(headers: IncomingHttpHeaders, body: string): JsonObject {
  const contentType = header(headers, 'content-type') ?? '';
  if (!contentType.startsWith('application/x-amz-json-1.1')) {
    throw protocolError(`Unsupported content type: ${contentType}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body === '' ? '{}' : body);
  } catch {
    throw protocolError('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw protocolError('The request body must be a JSON object.');
  }
  return parsed as JsonObject;
}

/** The bucket name or secret id a request is about, for the call log. */
export function targetOf(input: JsonObject): string | undefined {
  const target = input.bucketName ?? input.SecretId;
  return typeof target === 'string' ? target : undefined;
}

export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export interface Answer {
  readonly status: number;
  readonly body: JsonObject;
}

/** A ServiceError as an answer; anything else is the emulator's own bug, answered as a 500. */
export function errorAnswer(error: unknown): Answer {
  if (error instanceof ServiceError) {
    return { status: error.status, body: error.body };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { __type: 'InternalFailure', message: `Emulator failure: ${message}` } };
}

export function send(response: ServerResponse, answer: Answer): void {
  if (response.destroyed || response.writableEnded) {
    return;
  }
  const text = JSON.stringify(answer.body);
  response.writeHead(answer.status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': newUuid(),
  });
  response.end(text);
}
