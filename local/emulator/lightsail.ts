/**
 * Lightsail buckets and their access keys: the operations the handler uses, and the `operations`
 * that CreateBucketAccessKey and DeleteBucketAccessKey answer, which GetOperation follows.
 */
import { ServiceError, commonError, lightsailInvalidInput, lightsailNotFound } from './errors';
import { epochSeconds, newAccessKeyId, newSecretAccessKey, newUuid } from './ids';
import { LightsailOperations, OperationOutcome } from './lightsail-operations';
import type { JsonObject, Place } from './types';

/** Lightsail allows this many access keys per bucket. */
export const MAX_KEYS_PER_BUCKET = 2;

export type { OperationOutcome } from './lightsail-operations';

const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,52}[a-z0-9]$/;

interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly status: 'Active';
  readonly createdAt: number;
}

interface BucketRecord {
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly createdAt: number;
  readonly supportCode: string;
  readonly keys: AccessKeyRecord[];
}

function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('--') && !name.startsWith('amzn-s3-demo-') &&
    !name.startsWith('sthree-') && !name.endsWith('-s3alias');
}

function requireString(input: JsonObject, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw lightsailInvalidInput(`The ${field} parameter is required and must be a non-empty string.`);
  }
  return value;
}

function requireBucketName(input: JsonObject): string {
  const name = requireString(input, 'bucketName');
  if (!isValidBucketName(name)) {
    throw lightsailInvalidInput(`The bucket name "${name}" is not valid.`);
  }
  return name;
}

function lastUsedNever(): JsonObject {
  return { region: 'N/A', serviceName: 'N/A' };
}

export class LightsailBackend {
  private readonly buckets = new Map<string, BucketRecord>();
  /** Every secret access key ever handed out; survives reset() so leak checks span many tests. */
  private readonly issued: string[] = [];
  private readonly operations: LightsailOperations;

  constructor(private readonly place: Place, public legacyNotFound: boolean) {
    this.operations = new LightsailOperations(place);
  }

  reset(legacyNotFound: boolean): void {
    this.buckets.clear();
    this.operations.clear();
    this.legacyNotFound = legacyNotFound;
  }

  // ----- setup and inspection -----

  createBucket(name: string): { name: string; arn: string; url: string } {
    if (!isValidBucketName(name)) {
      throw new Error(`Invalid Lightsail bucket name: ${name}`);
    }
    if (this.buckets.has(name)) {
      throw new Error(`Lightsail bucket ${name} already exists`);
    }
    const { region, accountId } = this.place;
    const bucket: BucketRecord = {
      name,
      arn: `arn:aws:lightsail:${region}:${accountId}:Bucket/${newUuid()}`,
      url: `https://${name}.s3.${region}.amazonaws.com/`,
      createdAt: epochSeconds(),
      supportCode: `${accountId}/${name}`,
      keys: [],
    };
    this.buckets.set(name, bucket);
    return { name, arn: bucket.arn, url: bucket.url };
  }

  /** Like AWS::Lightsail::Bucket's forced delete: the bucket's keys go with it. */
  deleteBucket(name: string): void {
    if (!this.buckets.delete(name)) {
      throw new Error(`Lightsail bucket ${name} does not exist`);
    }
  }

  /** A key made by someone else; it counts toward the bucket's limit. */
  addForeignAccessKey(bucketName: string): { accessKeyId: string; secretAccessKey: string } {
    const bucket = this.setupBucket(bucketName);
    if (bucket.keys.length >= MAX_KEYS_PER_BUCKET) {
      throw new Error(`Lightsail bucket ${bucketName} already has ${MAX_KEYS_PER_BUCKET} access keys`);
    }
    const { accessKeyId, secretAccessKey } = this.addKey(bucket);
    return { accessKeyId, secretAccessKey };
  }

  /** The next operation of that type ends as told (queued: one outcome per operation, in order). */
  queueOperationOutcome(outcome: OperationOutcome): void {
    this.operations.queueOutcome(outcome);
  }

  accessKeys(bucketName: string): Array<{ accessKeyId: string; status: string }> {
    return this.setupBucket(bucketName).keys.map(({ accessKeyId, status }) => ({ accessKeyId, status }));
  }

  /** The ARN of a bucket that exists (IAM judges key creation and deletion on it). */
  bucketArn(name: unknown): string | undefined {
    return typeof name === 'string' ? this.buckets.get(name)?.arn : undefined;
  }

  issuedSecretAccessKeys(): string[] {
    return [...this.issued];
  }

  // ----- for S3 -----

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  /** A key that exists now, and its bucket; a deleted key (or one of a deleted bucket) is unknown. */
  findKey(accessKeyId: string): { bucketName: string; secretAccessKey: string } | undefined {
    for (const bucket of this.buckets.values()) {
      const key = bucket.keys.find((candidate) => candidate.accessKeyId === accessKeyId);
      if (key) {
        return { bucketName: bucket.name, secretAccessKey: key.secretAccessKey };
      }
    }
    return undefined;
  }

  // ----- operations -----

  handle(operation: string, input: JsonObject): JsonObject {
    switch (operation) {
      case 'GetBuckets':
        return this.getBuckets(input);
      case 'GetBucketAccessKeys':
        return this.getBucketAccessKeys(input);
      case 'CreateBucketAccessKey':
        return this.createBucketAccessKey(input);
      case 'DeleteBucketAccessKey':
        return this.deleteBucketAccessKey(input);
      case 'GetOperation':
        return this.getOperation(input);
      default:
        throw commonError('UnknownOperationException', `The emulator does not implement Lightsail ${operation}.`);
    }
  }

  private getBuckets(input: JsonObject): JsonObject {
    if (input.bucketName === undefined) {
      return { buckets: [...this.buckets.values()].map((bucket) => this.describeBucket(bucket)) };
    }
    const bucket = this.findBucket(requireBucketName(input));
    return { buckets: [this.describeBucket(bucket)] };
  }

  private getBucketAccessKeys(input: JsonObject): JsonObject {
    const bucket = this.findBucket(requireBucketName(input));
    return {
      accessKeys: bucket.keys.map((key) => ({
        accessKeyId: key.accessKeyId,
        status: key.status,
        createdAt: key.createdAt,
        lastUsed: lastUsedNever(),
      })),
    };
  }

  private createBucketAccessKey(input: JsonObject): JsonObject {
    const bucket = this.findBucket(requireBucketName(input));
    if (bucket.keys.length >= MAX_KEYS_PER_BUCKET) {
      throw lightsailInvalidInput(
        `You can have a maximum of ${MAX_KEYS_PER_BUCKET} access keys per bucket. ` +
        `Bucket ${bucket.name} already has ${bucket.keys.length} access keys.`,
      );
    }
    const key = this.addKey(bucket);
    const operation = this.operations.start(bucket.name, 'CreateBucketAccessKey', key.accessKeyId,
      (fails) => (fails ? () => this.removeKey(bucket, key.accessKeyId) : undefined));
    return { accessKey: { ...key, lastUsed: lastUsedNever() }, operations: [operation] };
  }

  private deleteBucketAccessKey(input: JsonObject): JsonObject {
    const bucket = this.findBucket(requireBucketName(input));
    const accessKeyId = requireString(input, 'accessKeyId');
    if (!bucket.keys.some((key) => key.accessKeyId === accessKeyId)) {
      throw this.notFound(`The access key ${accessKeyId} does not exist for bucket ${bucket.name}.`);
    }
    const operation = this.operations.start(bucket.name, 'DeleteBucketAccessKey', accessKeyId,
      (fails) => (fails ? undefined : () => this.removeKey(bucket, accessKeyId)));
    return { operations: [operation] };
  }

  private getOperation(input: JsonObject): JsonObject {
    const id = requireString(input, 'operationId');
    const operation = this.operations.poll(id);
    if (!operation) {
      throw this.notFound(`The operation ${id} does not exist.`);
    }
    return { operation };
  }

  // ----- helpers -----

  private removeKey(bucket: BucketRecord, accessKeyId: string): void {
    const index = bucket.keys.findIndex((key) => key.accessKeyId === accessKeyId);
    if (index >= 0) {
      bucket.keys.splice(index, 1);
    }
  }

  // ----- helpers -----

  private addKey(bucket: BucketRecord): AccessKeyRecord {
    const key: AccessKeyRecord = {
      accessKeyId: newAccessKeyId(),
      secretAccessKey: newSecretAccessKey(),
      status: 'Active',
      createdAt: epochSeconds(),
    };
    bucket.keys.push(key);
    this.issued.push(key.secretAccessKey);
    return key;
  }

  private setupBucket(name: string): BucketRecord {
    const bucket = this.buckets.get(name);
    if (!bucket) {
      throw new Error(`Lightsail bucket ${name} does not exist in the emulator`);
    }
    return bucket;
  }

  private findBucket(name: string): BucketRecord {
    const bucket = this.buckets.get(name);
    if (!bucket) {
      throw this.notFound(`The bucket ${name} does not exist.`);
    }
    return bucket;
  }

  private notFound(message: string): ServiceError {
    return lightsailNotFound(message, this.legacyNotFound);
  }

  private location(): JsonObject {
    return { availabilityZone: 'all', regionName: this.place.region };
  }

  private describeBucket(bucket: BucketRecord): JsonObject {
    return {
      resourceType: 'Bucket',
      accessRules: { getObject: 'private', allowPublicOverrides: false },
      arn: bucket.arn,
      bundleId: 'small_1_0',
      createdAt: bucket.createdAt,
      url: bucket.url,
      location: this.location(),
      name: bucket.name,
      supportCode: bucket.supportCode,
      tags: [],
      objectVersioning: 'Disabled',
      ableToUpdateBundle: true,
      readonlyAccessAccounts: [],
      resourcesReceivingAccess: [],
      state: { code: 'OK' },
      accessLogConfig: { enabled: false },
    };
  }
}
