/**
 * S3's REST-XML requests, as the SDK sends them to an emulator endpoint:
 * - http://127.0.0.1:PORT (an IP address): path style, `GET /<bucket>/?list-type=2&max-keys=1`;
 * - http://localhost:PORT: virtual-hosted style, Host `<bucket>.localhost:PORT`, `GET /?list-type=2...`
 *   (the name must then resolve to 127.0.0.1, which the SDK leaves to the operating system).
 * Only ListObjectsV2 is implemented; other requests are answered 501 NotImplemented.
 */
import type { IncomingMessage } from 'node:http';
import { S3Error } from './errors';
import { header, xmlAnswer, xmlElements } from './protocol';
import type { Answer } from './protocol';
import { queryParameters } from './sigv4';
import type { FaultKind } from './types';

export const LIST_OBJECTS_V2 = 'ListObjectsV2';

export interface S3Request {
  readonly method: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly query: ReadonlyMap<string, string>;
  readonly rawHeaders: readonly string[];
  readonly authorization?: string;
  readonly amzDate?: string;
  readonly contentSha256?: string;
  readonly bucket?: string;
  /** The object key ('' for a request on the bucket itself). */
  readonly key: string;
  /** 'ListObjectsV2', or `METHOD /path?query` for a request the emulator does not implement. */
  readonly operation: string;
}

/** The bucket named by a virtual-hosted Host header (`<bucket>.localhost`, `<bucket>.127.0.0.1`). */
function virtualHostedBucket(host: string): string | undefined {
  const hostname = host.replace(/:\d+$/, '');
  return /^(.+)\.(localhost|127\.0\.0\.1)$/.exec(hostname)?.[1];
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function parseS3Request(request: IncomingMessage): S3Request {
  const url = request.url ?? '/';
  const mark = url.indexOf('?');
  const rawPath = mark < 0 ? url : url.slice(0, mark);
  const rawQuery = mark < 0 ? '' : url.slice(mark + 1);
  const query = new Map(queryParameters(rawQuery));
  const method = request.method ?? 'GET';
  const hostBucket = virtualHostedBucket(header(request.headers, 'host') ?? '');
  const segments = rawPath.replace(/^\//, '').split('/');
  const bucket = hostBucket ?? (segments[0] === '' ? undefined : decodePath(segments[0]));
  const key = decodePath(hostBucket === undefined ? segments.slice(1).join('/') : segments.join('/'));
  const isList = method === 'GET' && bucket !== undefined && key === '' && query.get('list-type') === '2';
  return {
    method,
    rawPath,
    rawQuery,
    query,
    rawHeaders: request.rawHeaders,
    authorization: header(request.headers, 'authorization'),
    amzDate: header(request.headers, 'x-amz-date'),
    contentSha256: header(request.headers, 'x-amz-content-sha256'),
    bucket,
    key,
    operation: isList ? LIST_OBJECTS_V2 : `${method} ${url}`,
  };
}

export function notImplemented(request: S3Request): S3Error {
  return new S3Error(
    501,
    'NotImplemented',
    `A header you provided implies functionality that is not implemented. (The emulator implements only ` +
    `ListObjectsV2, GET /<bucket>?list-type=2; it got ${request.operation}.)`,
  );
}

export function accessDenied(): S3Error {
  return new S3Error(403, 'AccessDenied', 'Access Denied');
}

/** The answer of an injected fault, as S3 gives it. */
export function s3Fault(kind: Exclude<FaultKind, 'hang'>): S3Error {
  switch (kind) {
    case 'throttling':
      return new S3Error(503, 'SlowDown', 'Please reduce your request rate.');
    case 'server':
      return new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
    case 'access-denied':
      return accessDenied();
  }
}

function invalidArgument(message: string, name: string, value: string): S3Error {
  return new S3Error(400, 'InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
}

/** The answer to ListObjectsV2 on an empty bucket (the emulator stores no objects). */
export function listBucketResult(bucket: string, query: ReadonlyMap<string, string>, region: string): Answer {
  const maxKeysText = query.get('max-keys') ?? '1000';
  const maxKeys = Number(maxKeysText);
  if (!/^\d+$/.test(maxKeysText) || maxKeys > 2 ** 31 - 1) {
    throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', maxKeysText);
  }
  const encodingType = query.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') {
    throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  }
  const continuationToken = query.get('continuation-token');
  if (continuationToken !== undefined) {
    // The emulator never truncates a listing, so it never hands out a token.
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', continuationToken);
  }
  const optional = (name: string, parameter: string): Array<[string, string]> => {
    const value = query.get(parameter);
    return value === undefined ? [] : [[name, value]];
  };
  return xmlAnswer(200, () => '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' + xmlElements([
    ['Name', bucket],
    ['Prefix', query.get('prefix') ?? ''],
    ['KeyCount', 0],
    ['MaxKeys', maxKeys],
    ...optional('Delimiter', 'delimiter'),
    ['IsTruncated', false],
    ...optional('StartAfter', 'start-after'),
    ...optional('EncodingType', 'encoding-type'),
  ]) + '</ListBucketResult>', { 'x-amz-bucket-region': region });
}
