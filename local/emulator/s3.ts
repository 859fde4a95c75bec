/**
 * S3, for the Lightsail buckets: ListObjectsV2 signed (SigV4, really verified) with a bucket access
 * key that the Lightsail emulator issued. Buckets hold no objects.
 *
 * Checks, in order: a signature at all (else AccessDenied, or NoSuchBucket), the headers S3 needs,
 * the key id (InvalidAccessKeyId: unknown, deleted, or not yet propagated), the credential scope
 * (AuthorizationHeaderMalformed: wrong service, region or date), unsigned x-amz-* headers, the
 * signature (SignatureDoesNotMatch), the payload hash, the bucket (NoSuchBucket), and whether the key
 * belongs to it (AccessDenied).
 */
import { createHash } from 'node:crypto';
import { S3Error } from './errors';
import type { LightsailBackend } from './lightsail';
import { Answer, errorAnswer } from './protocol';
import { LIST_OBJECTS_V2, S3Request, accessDenied, listBucketResult, notImplemented } from './s3-protocol';
import { ParsedAuthorization, parseAuthorization, verifySignature } from './sigv4';
import type { Place } from './types';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

function invalidAccessKeyId(accessKeyId: string): S3Error {
  return new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
    AWSAccessKeyId: accessKeyId,
  });
}

function noSuchBucket(bucketName: string): S3Error {
  return new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucketName });
}

function malformed(reason: string, details: Record<string, string> = {}): S3Error {
  return new S3Error(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; ${reason}`, details);
}

/** S3 wants host and every x-amz-* header signed. */
function unsignedHeaders(request: S3Request, auth: ParsedAuthorization): string[] {
  const present = new Set<string>(['host']);
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index].toLowerCase();
    if (name.startsWith('x-amz-')) {
      present.add(name);
    }
  }
  return [...present].filter((name) => !auth.signedHeaders.includes(name));
}

export class S3Backend {
  /** Access key id -> how many more requests it is refused, as if not yet known to S3. */
  private readonly propagation = new Map<string, number>();

  constructor(private readonly place: Place, private readonly lightsail: LightsailBackend) {}

  reset(): void {
    this.propagation.clear();
  }

  delayKeyPropagation(accessKeyId: string, requests: number): void {
    if (!Number.isInteger(requests) || requests < 0) {
      throw new Error(`delayKeyPropagation: requests must be a non-negative integer, got ${requests}`);
    }
    if (!this.lightsail.findKey(accessKeyId)) {
      throw new Error(`delayKeyPropagation: access key ${accessKeyId} does not exist in the emulator`);
    }
    if (requests === 0) {
      this.propagation.delete(accessKeyId);
    } else {
      this.propagation.set(accessKeyId, requests);
    }
  }

  handle(request: S3Request, body: Buffer): Answer {
    try {
      if (request.operation !== LIST_OBJECTS_V2 || request.bucket === undefined) {
        throw notImplemented(request);
      }
      const bucketName = request.bucket;
      if (request.authorization === undefined) {
        throw this.lightsail.hasBucket(bucketName) ? accessDenied() : noSuchBucket(bucketName);
      }
      const keyBucket = this.authenticate(request, request.authorization, body);
      if (!this.lightsail.hasBucket(bucketName)) {
        throw noSuchBucket(bucketName);
      }
      if (keyBucket !== bucketName) {
        throw accessDenied();
      }
      return listBucketResult(bucketName, request.query, this.place.region);
    } catch (error) {
      return errorAnswer(error, 's3');
    }
  }

  /** Verifies the signature; returns the bucket of the key that made it. */
  private authenticate(request: S3Request, authorization: string, body: Buffer): string {
    const auth = parseAuthorization(authorization);
    if (!auth) {
      throw malformed('expecting "AWS4-HMAC-SHA256 Credential=<AKID>/<YYYYMMDD>/<REGION>/s3/aws4_request, SignedHeaders=..., Signature=<hex>".');
    }
    const { contentSha256: payloadHash, amzDate } = request;
    if (payloadHash === undefined) {
      throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    }
    if (amzDate === undefined || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
      throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    }
    const key = this.knownKey(auth.accessKeyId);
    if (auth.service !== 's3') {
      throw malformed(`incorrect service "${auth.service}". This endpoint belongs to "s3".`);
    }
    if (auth.region !== this.place.region) {
      throw malformed(`the region '${auth.region}' is wrong; expecting '${this.place.region}'`, { Region: this.place.region });
    }
    if (auth.date !== amzDate.slice(0, 8)) {
      throw malformed('Invalid credential date. Date is not the same as X-Amz-Date.');
    }
    const unsigned = unsignedHeaders(request, auth);
    if (unsigned.length > 0) {
      throw new S3Error(403, 'AccessDenied', 'There were headers present in the request which were not signed', {
        HeadersNotSigned: unsigned.join(', '),
      });
    }
    const verification = verifySignature({ ...request, amzDate, payloadHash }, auth, key.secretAccessKey);
    if (!verification.matches) {
      throw new S3Error(403, 'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
          AWSAccessKeyId: auth.accessKeyId,
          StringToSign: verification.stringToSign,
          SignatureProvided: auth.signature,
          CanonicalRequest: verification.canonicalRequest,
        });
    }
    this.checkPayload(payloadHash, body);
    return key.bucketName;
  }

  /** The key, unless it does not exist or has not propagated yet (which uses up one refusal). */
  private knownKey(accessKeyId: string): { bucketName: string; secretAccessKey: string } {
    const refusals = this.propagation.get(accessKeyId) ?? 0;
    if (refusals > 0) {
      if (refusals === 1) {
        this.propagation.delete(accessKeyId);
      } else {
        this.propagation.set(accessKeyId, refusals - 1);
      }
      throw invalidAccessKeyId(accessKeyId);
    }
    const key = this.lightsail.findKey(accessKeyId);
    if (!key) {
      throw invalidAccessKeyId(accessKeyId);
    }
    return key;
  }

  private checkPayload(payloadHash: string, body: Buffer): void {
    if (payloadHash === UNSIGNED_PAYLOAD) {
      return;
    }
    if (!/^[0-9a-f]{64}$/.test(payloadHash)) {
      throw new S3Error(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.', {
        ArgumentName: 'x-amz-content-sha256',
        ArgumentValue: payloadHash,
      });
    }
    const computed = createHash('sha256').update(body).digest('hex');
    if (computed !== payloadHash) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
        ClientComputedContentSHA256: payloadHash,
        S3ComputedContentSHA256: computed,
      });
    }
  }
}
