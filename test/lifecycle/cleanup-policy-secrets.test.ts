/**
 * Issue 14 §2, changes of the secret, the encryption key, the serial and the provider: after each, the
 * cleanup Delete of the old key runs under the NEW template's policy, and must still delete the key
 * and leave the secret holding the new one.
 */
import { currentKey } from './fixture';
import { cleanupPolicySuite, keyLogicalId } from './cleanup-policy';

jest.setTimeout(90_000);

const suite = cleanupPolicySuite();
const { update } = suite;

const BUCKET = { Bucket: 'policy-secret-bucket' };

test('the secret renamed (secretName: the secret is replaced): the old key\'s Delete reads the old secret, which the new policy does not name', async () => {
  const outcome = await update(
    { buckets: BUCKET, keys: [{ id: 'Key', bucket: 'Bucket', secretName: 'app/key-before' }] },
    { buckets: BUCKET, keys: [{ id: 'Key', bucket: 'Bucket', secretName: 'app/key-after' }] },
  );
  // The old secret still holds the old (deleted) key: CloudFormation deletes that secret next.
  const oldSecret = outcome.driver.secretArn(keyLogicalId(outcome.driver, outcome.v1.template, 'Key'), outcome.v1.template);
  expect(currentKey(suite.emulator, oldSecret)?.accessKeyId).toBe(outcome.created.Key);
  expect(oldSecret).toContain('app/key-before');
});

test('the encryption key changed, with a serial bump: the replaced key is deleted under the new policy', async () => {
  // KMS is not modelled by the local AWS: this checks the Secrets Manager and Lightsail side only.
  await update(
    { buckets: BUCKET, encryptionKeys: ['Before', 'After'], keys: [{ id: 'Key', bucket: 'Bucket', serial: 1, encryptionKey: 'Before' }] },
    { buckets: BUCKET, encryptionKeys: ['Before', 'After'], keys: [{ id: 'Key', bucket: 'Bucket', serial: 2, encryptionKey: 'After' }] },
  );
});

test('a serial bump: the replaced key is deleted under the new policy', async () => {
  const outcome = await update(
    { buckets: BUCKET, keys: [{ id: 'Key', bucket: 'Bucket', serial: 1 }] },
    { buckets: BUCKET, keys: [{ id: 'Key', bucket: 'Bucket', serial: 2 }] },
  );
  expect(outcome.updated.Key).not.toBe(outcome.created.Key);
});

test('the default provider configured (DEFAULT_ID with properties), with a move to another bucket of the stack: the cleanup runs under the configured provider\'s policy', async () => {
  const buckets = { ...BUCKET, Other: 'policy-other-bucket' };
  await update(
    { buckets, keys: [{ id: 'Key', bucket: 'Bucket' }] },
    { buckets, configuredProvider: true, keys: [{ id: 'Key', bucket: 'Other' }] },
  );
  expect(suite.emulator.accessKeys('policy-secret-bucket')).toEqual([]);
});
