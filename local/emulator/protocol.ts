/**
 * awsJson1_1 over HTTP: routing by X-Amz-Target, request bodies, JSON answers. Requests without
 * X-Amz-Target are S3's (REST-XML, see s3-protocol.ts); `send` writes both kinds of answer.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { S3Error, ServiceError, commonError, protocolError } from './errors';
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

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** S3 requests are the ones that name no X-Amz-Target. */
export function isS3Request(headers: IncomingHttpHeaders): boolean {
  return header(headers, 'x-amz-target') === undefined;
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

/** The access key id of the request's SigV4 `Credential=AKID/...` scope: who is calling. */
export function signingKeyId(headers: IncomingHttpHeaders): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(header(headers, 'authorization') ?? '')?.[1];
}

export function parseInput(headers: IncomingHttpHeaders, raw: Buffer): JsonObject {
  const body = raw.toString('utf8');
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

/** The raw body: S3 checks its SHA-256 against x-amz-content-sha256. */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export interface JsonAnswer {
  readonly status: number;
  readonly body: JsonObject;
}

export interface XmlAnswer {
  readonly status: number;
  readonly xml: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A JSON answer (awsJson1_1), or an XML one (S3) with the headers that go with it. */
export type Answer = JsonAnswer | XmlAnswer;

/**
 * A ServiceError or S3Error as an answer; anything else is the emulator's own bug, answered as a
 * 500 (S3's InternalError for S3 requests).
 */
export function errorAnswer(error: unknown, service?: 's3'): Answer {
  if (error instanceof ServiceError) {
    return { status: error.status, body: error.body };
  }
  const message = `Emulator failure: ${error instanceof Error ? error.message : String(error)}`;
  if (error instanceof S3Error || service === 's3') {
    return s3ErrorAnswer(error instanceof S3Error ? error : new S3Error(500, 'InternalError', message));
  }
  return { status: 500, body: { __type: 'InternalFailure', message } };
}

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** `<Name>value</Name>` for each entry, values escaped. */
export function xmlElements(entries: ReadonlyArray<readonly [string, string | number | boolean]>): string {
  return entries.map(([name, value]) => `<${name}>${xmlEscape(String(value))}</${name}>`).join('');
}

/** An S3 answer: the XML declaration, the body, and S3's request id headers (echoed in error bodies). */
export function xmlAnswer(
  status: number,
  body: (ids: { RequestId: string; HostId: string }) => string,
  headers: Readonly<Record<string, string>> = {},
): XmlAnswer {
  const ids = { RequestId: newUuid().replace(/-/g, '').slice(0, 16).toUpperCase(), HostId: Buffer.from(newUuid()).toString('base64') };
  return {
    status,
    xml: `<?xml version="1.0" encoding="UTF-8"?>\n${body(ids)}`,
    headers: { ...headers, 'x-amz-request-id': ids.RequestId, 'x-amz-id-2': ids.HostId },
  };
}

export function s3ErrorAnswer(error: S3Error): XmlAnswer {
  return xmlAnswer(error.status, (ids) => `<Error>${xmlElements([
    ['Code', error.code],
    ['Message', error.message],
    ...Object.entries(error.details),
    ['RequestId', ids.RequestId],
    ['HostId', ids.HostId],
  ])}</Error>`);
}

export function send(response: ServerResponse, answer: Answer): void {
  if (response.destroyed || response.writableEnded) {
    return;
  }
  const [text, headers] = 'xml' in answer
    ? [answer.xml, { 'content-type': 'application/xml', ...answer.headers }]
    : [JSON.stringify(answer.body), { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': newUuid() }];
  response.writeHead(answer.status, { ...headers, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
