/** Mocked SDK clients and canned answers shared by the handler's unit tests. */
import {
  AccessDeniedException,
  CreateBucketAccessKeyCommand,
  DeleteBucketAccessKeyCommand,
  GetBucketAccessKeysCommand,
  GetBucketsCommand,
  LightsailClient,
  LightsailServiceException,
  NotFoundException,
  ServiceException,
} from '@aws-sdk/client-lightsail';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { runEvent } from '../../lambda/retry';
import { BUCKET, SECRET_ARN, createEvent } from './events';

export const lightsail = mockClient(LightsailClient);
export const secretsManager = mockClient(SecretsManagerClient);

export const NEW_KEY_ID = 'AKIANEWKEY0000000001';
export const OLD_KEY_ID = 'AKIAOLDKEY0000000001';
export const FOREIGN_KEY_ID = 'AKIAFOREIGN000000001';
export const NEW_SECRET = 'newSecretAccessKey/do-not-leak/0000000001';
export const BUCKET_URL = `https://${BUCKET}.s3.us-east-1.amazonaws.com/`;
export const CREATE_REQUEST_ID = createEvent().RequestId;

/** Every console line of the current test. */
export let output: string[];

beforeEach(() => {
  lightsail.reset();
  secretsManager.reset();
  process.env.AWS_REGION = 'us-east-1';
  output = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      output.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
    });
  }
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
  // Whatever the branch, the secret access key never reaches a log line.
  expect(output.join('\n')).not.toContain(NEW_SECRET);
});

export function notFound(message = 'The bucket does not exist'): NotFoundException {
  return new NotFoundException({ message, $metadata: {}, code: 'DoesNotExist' });
}

/** What older SDKs threw: the base class, with the body's `code` copied onto it. */
export function legacyNotFound(message: string): LightsailServiceException {
  const error = new LightsailServiceException({ name: 'LightsailServiceException', $fault: 'client', $metadata: {}, message });
  return Object.assign(error, { code: 'DoesNotExist' });
}

export function secretNotFound(message = "Secrets Manager can't find the specified secret value"): ResourceNotFoundException {
  return new ResourceNotFoundException({ message, $metadata: {} });
}

export function accessDenied(message = 'User is not authorized'): AccessDeniedException {
  return new AccessDeniedException({ message, $metadata: {} });
}

/** A Secrets Manager error that is never retried (the handler's retries are for throttling and access denied only). */
export function secretsManagerError(name: string, message: string): SecretsManagerServiceException {
  return new SecretsManagerServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

/** A refusal that is never retried (the handler's retries are for throttling and access denied only). */
export function refused(message: string): LightsailServiceException {
  return new LightsailServiceException({ name: 'OperationFailureException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message });
}

/** A Lambda context whose remaining time counts down from `remainingMs` (default: the onEvent function's 5 minutes), as Lambda's does. */
export function lambdaContext(remainingMs = 300_000): { getRemainingTimeInMillis: () => number } {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
}

/** Runs a part of a handler as inside an event of 5 minutes (AWS calls need an event's deadline). */
export function inEvent<T>(work: () => Promise<T>): Promise<T> {
  return runEvent(lambdaContext(), work);
}

/**
 * A fake clock for the retries: Date.now and the timers are jest's, and Math.random is 0.5, so that
 * each backoff wait is half its ceiling (100, 200, 400, 800, 1600, then 2500 ms). Call it before
 * making the `lambdaContext`, and await the handler through `onFakeClock`.
 */
export function useFakeClock(): void {
  jest.useFakeTimers();
  jest.spyOn(Math, 'random').mockReturnValue(0.5);
}

/** Moves the fake clock from timer to timer until `promise` settles, then settles like it. */
export async function onFakeClock<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(() => { settled = true; }, () => { settled = true; });
  for (let timers = 0; !settled; timers++) {
    if (timers > 1_000) {
      throw new Error('Still running after 1,000 timers');
    }
    await jest.advanceTimersToNextTimerAsync();
  }
  return promise;
}

export function throttled(): LightsailServiceException {
  return new LightsailServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
}

export function serverError(): ServiceException {
  return new ServiceException({ message: 'Internal failure', $metadata: { httpStatusCode: 500 } });
}

export function storedValue(accessKeyId: string, bucketName = BUCKET, serial?: string): string {
  return JSON.stringify({ accessKeyId, secretAccessKey: 'stored-secret', bucketName, region: 'us-east-1', serial });
}

/** A bucket with the given keys, where Create succeeds and the secret has no version yet. */
export function givenBucket(existingKeyIds: string[] = []): void {
  lightsail.on(GetBucketsCommand, { bucketName: BUCKET }).resolves({ buckets: [{ name: BUCKET, url: BUCKET_URL }] });
  lightsail.on(GetBucketAccessKeysCommand, { bucketName: BUCKET })
    .resolves({ accessKeys: existingKeyIds.map((accessKeyId) => ({ accessKeyId, status: 'Active' })) });
  lightsail.on(CreateBucketAccessKeyCommand)
    .resolves({ accessKey: { accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET, status: 'Active' } });
  lightsail.on(DeleteBucketAccessKeyCommand).resolves({ operations: [] });
  secretsManager.on(GetSecretValueCommand).rejects(secretNotFound());
  secretsManager.on(PutSecretValueCommand).resolves({ ARN: SECRET_ARN, VersionId: CREATE_REQUEST_ID });
}

/** The secret's AWSCURRENT, AWSPREVIOUS and AWSPENDING versions (undefined: that stage does not exist). */
export function givenSecretVersions(current?: string, previous?: string, pending?: string): void {
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' })
    .callsFake(async () => {
      if (current === undefined) {
        throw secretNotFound();
      }
      return { VersionId: 'v-current', SecretString: current, VersionStages: ['AWSCURRENT'] };
    });
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSPREVIOUS' })
    .callsFake(async () => {
      if (previous === undefined) {
        throw secretNotFound();
      }
      return { VersionId: 'v-previous', SecretString: previous, VersionStages: ['AWSPREVIOUS'] };
    });
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSPENDING' })
    .callsFake(async () => {
      if (pending === undefined) {
        throw secretNotFound();
      }
      return { VersionId: 'v-pending', SecretString: pending, VersionStages: ['AWSPENDING'] };
    });
  secretsManager.on(UpdateSecretVersionStageCommand).resolves({});
}

export async function failureOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(Error);
  const message = (error as Error).message;
  expect(message).not.toContain(NEW_SECRET);
  return message;
}

