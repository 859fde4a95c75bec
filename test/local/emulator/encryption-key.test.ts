/** A secret whose encryption key can no longer decrypt it (disabled or denied by hand). */
import { DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsEmulator } from '../../../local/emulator';
import { failure, secretsManagerClientFor } from './testing';

let emulator: AwsEmulator;
let client: SecretsManagerClient;

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  client = secretsManagerClientFor(emulator);
});

afterAll(async () => {
  client.destroy();
  await emulator.stop();
});

beforeEach(() => emulator.reset());

test.each([
  ['DecryptionFailure', "Secrets Manager can't decrypt the protected secret text using the provided KMS key."],
  ['KMSAccessDeniedException', 'Access to KMS is not allowed'],
  ['KMSInvalidStateException', 'The KMS key of the secret is disabled.'],
] as const)('GetSecretValue answers %s (400); PutSecretValue EncryptionFailure; DescribeSecret still answers', async (damage, message) => {
  const { arn } = emulator.createSecret('damaged');
  await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: '{}' }));
  emulator.damageEncryptionKey(arn, damage);

  const read = await failure(client.send(new GetSecretValueCommand({ SecretId: arn })));
  expect(read.name).toBe(damage);
  expect(read.message).toBe(message);
  expect(read.$metadata.httpStatusCode).toBe(400);
  const put = await failure(client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: '{"a":1}' })));
  expect(put.name).toBe('EncryptionFailure');
  expect((await client.send(new DescribeSecretCommand({ SecretId: arn }))).ARN).toBe(arn);
});

test('only that secret, until reset()', async () => {
  const damaged = emulator.createSecret('damaged');
  const intact = emulator.createSecret('intact');
  await client.send(new PutSecretValueCommand({ SecretId: intact.arn, SecretString: '{}' }));
  emulator.damageEncryptionKey('damaged', 'DecryptionFailure');

  expect((await client.send(new GetSecretValueCommand({ SecretId: intact.arn }))).SecretString).toBe('{}');
  expect((await failure(client.send(new GetSecretValueCommand({ SecretId: damaged.arn })))).name).toBe('DecryptionFailure');
  emulator.reset();
  const again = emulator.createSecret('damaged');
  expect((await failure(client.send(new GetSecretValueCommand({ SecretId: again.arn })))).name).toBe('ResourceNotFoundException');
  expect(() => emulator.damageEncryptionKey('no-such-secret', 'DecryptionFailure')).toThrow('Secret no-such-secret does not exist in the emulator');
});
