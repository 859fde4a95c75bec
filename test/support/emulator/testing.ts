/** Test helpers: real SDK clients pointed at an emulator, and the error a call fails with. */
import { LightsailClient, LightsailClientConfig } from '@aws-sdk/client-lightsail';
import { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { AwsEmulator } from './index';

/** Fake credentials: the emulator requires a signature but does not verify it. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIATESTCLIENTEXAMPL', secretAccessKey: 'test/fake/secret/access/key/EXAMPLE00' };

export function lightsailClientFor(emulator: AwsEmulator, config: LightsailClientConfig = {}): LightsailClient {
  return new LightsailClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: FAKE_CREDENTIALS, ...config });
}

export function secretsManagerClientFor(emulator: AwsEmulator, config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: FAKE_CREDENTIALS, ...config });
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
