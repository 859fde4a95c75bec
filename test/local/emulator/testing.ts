/** Test helpers: real SDK clients pointed at an emulator, and the error a call fails with. */
import { LightsailClient, LightsailClientConfig } from '@aws-sdk/client-lightsail';
import { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { AwsEmulator } from '../../../local/emulator';

/**
 * Fake credentials: Lightsail and Secrets Manager require a signature but do not verify it. S3 does
 * (these get InvalidAccessKeyId there): sign S3 requests with a key the emulator issued.
 */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIATESTCLIENTEXAMPL', secretAccessKey: 'test/fake/secret/access/key/EXAMPLE00' };

export function lightsailClientFor(emulator: AwsEmulator, config: LightsailClientConfig = {}): LightsailClient {
  return new LightsailClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: FAKE_CREDENTIALS, ...config });
}

export function secretsManagerClientFor(emulator: AwsEmulator, config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: FAKE_CREDENTIALS, ...config });
}

/** An S3 client signing with a bucket access key (from CreateBucketAccessKey or addForeignAccessKey). */
export function s3ClientFor(
  emulator: AwsEmulator,
  credentials: { accessKeyId: string; secretAccessKey: string },
  config: S3ClientConfig = {},
): S3Client {
  return new S3Client({ endpoint: emulator.endpoint, region: emulator.region, credentials, ...config });
}

/** What SDK errors carry besides name and message. */
export type SdkError = Error & { $metadata: { httpStatusCode?: number }; code?: string };

/** The error a call fails with; throws if the call succeeds. */
export async function failure(call: Promise<unknown>): Promise<SdkError> {
  const outcome = await call.then(() => undefined, (error: unknown) => error);
  if (!(outcome instanceof Error)) {
    throw new Error('expected the call to fail, but it succeeded');
  }
  return outcome as SdkError;
}
