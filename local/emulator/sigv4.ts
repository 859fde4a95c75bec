/**
 * AWS Signature Version 4 (header form), checked the way S3 checks it: the Authorization header is
 * parsed, the signature is recomputed from the request and the secret access key, and compared.
 * Written with node:crypto only, independently of the SDK's signer, so that the SDK's signatures
 * are really checked against the specification.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';

export interface ParsedAuthorization {
  readonly accessKeyId: string;
  /** YYYYMMDD, from the credential scope. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  /** Lower-case header names, in the order the client listed them. */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** What the signature covers, taken from the request as it arrived. */
export interface SignedRequest {
  readonly method: string;
  /** The path exactly as sent (already URI-encoded by the client; S3 does not encode it again). */
  readonly rawPath: string;
  /** The query string as sent, without '?'. */
  readonly rawQuery: string;
  /** Node's `rawHeaders`: name, value, name, value... */
  readonly rawHeaders: readonly string[];
  /** x-amz-date: YYYYMMDD'T'HHMMSS'Z'. */
  readonly amzDate: string;
  /** x-amz-content-sha256 (S3 signs the payload hash it was told). */
  readonly payloadHash: string;
}

export interface Verification {
  readonly matches: boolean;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
}

/**
 * `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date,
 * Signature=hex`; undefined when the header has another shape.
 */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  if (!header.startsWith(`${ALGORITHM} `)) {
    return undefined;
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const separator = part.indexOf('=');
    if (separator > 0) {
      fields.set(part.slice(0, separator).trim(), part.slice(separator + 1).trim());
    }
  }
  const scope = (fields.get('Credential') ?? '').split('/');
  const signedHeaders = (fields.get('SignedHeaders') ?? '').split(';').filter((name) => name !== '');
  const signature = fields.get('Signature') ?? '';
  if (scope.length !== 5 || scope.some((part) => part === '') || scope[4] !== 'aws4_request' ||
    signedHeaders.length === 0 || !/^[0-9a-f]{64}$/.test(signature)) {
    return undefined;
  }
  const [accessKeyId, date, region, service] = scope;
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

/** RFC 3986 encoding, as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~ is %XX. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function uriDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The query parameters, decoded, in the order they were sent. */
export function queryParameters(rawQuery: string): Array<[string, string]> {
  return rawQuery.split('&').filter((pair) => pair !== '').map((pair) => {
    const separator = pair.indexOf('=');
    return separator < 0 ? [uriDecode(pair), ''] : [uriDecode(pair.slice(0, separator)), uriDecode(pair.slice(separator + 1))];
  });
}

function canonicalQuery(rawQuery: string): string {
  return queryParameters(rawQuery)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort(([nameA, valueA], [nameB, valueB]) => (nameA === nameB ? compare(valueA, valueB) : compare(nameA, nameB)))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `name:value\n` for each signed header: repeated headers joined by ',', values trimmed, spaces folded. */
function canonicalHeaders(rawHeaders: readonly string[], signedHeaders: readonly string[]): string {
  const values = new Map<string, string[]>();
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index].toLowerCase();
    values.set(name, [...(values.get(name) ?? []), rawHeaders[index + 1].trim().replace(/\s+/g, ' ')]);
  }
  return signedHeaders.map((name) => `${name}:${(values.get(name) ?? []).join(',')}\n`).join('');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Recomputes the signature of the request with the secret access key and compares it, in constant time. */
export function verifySignature(request: SignedRequest, auth: ParsedAuthorization, secretAccessKey: string): Verification {
  const canonicalRequest = [
    request.method,
    request.rawPath === '' ? '/' : request.rawPath,
    canonicalQuery(request.rawQuery),
    canonicalHeaders(request.rawHeaders, auth.signedHeaders),
    auth.signedHeaders.join(';'),
    request.payloadHash,
  ].join('\n');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [ALGORITHM, request.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = [auth.date, auth.region, auth.service, 'aws4_request']
    .reduce<Buffer | string>((key, part) => hmac(key, part), `AWS4${secretAccessKey}`);
  const expected = hmac(signingKey, stringToSign);
  const provided = Buffer.from(auth.signature, 'hex');
  const matches = provided.length === expected.length && timingSafeEqual(provided, expected);
  return { matches, canonicalRequest, stringToSign };
}
