/**
 * The synthesized assets (the bundled handler, aws-cdk-lib's Provider framework) driven through the
 * event sequences CloudFormation sends, against the local emulator.
 */
import { AwsEmulator } from '../../local/emulator';
import { StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { emittedTexts, leaks } from '../../local/leaks';
import { currentKey, expectSecretHoldsEveryKey, expectSuccess, keyId, keyIds, synthesizeKeyStack } from './fixture';

const BUCKET = 'lifecycle-bucket';

// Each test runs several cold handler processes; on a loaded 2-core machine that can pass 5 s.
jest.setTimeout(30_000);
const OTHER_BUCKET = 'lifecycle-other-bucket';

let emulator: AwsEmulator;
let first: SynthesizedStack;
let bumped: SynthesizedStack;
let moved: SynthesizedStack;
let byName: SynthesizedStack;
const drivers: StackDriver[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeKeyStack({ serial: 1 });
  bumped = synthesizeKeyStack({ serial: 2 });
  moved = synthesizeKeyStack({ serial: 1, bucketName: OTHER_BUCKET });
  byName = synthesizeKeyStack({ withBucket: false, bucketName: 'bucket-made-elsewhere' });
});

afterAll(async () => {
  // Every byte the system emitted across this file: templates, cdk.out, responses, logs.
  const texts = drivers.flatMap((driver) => emittedTexts(driver, [first, bumped, moved, byName]));
  expect(texts.length).toBeGreaterThan(0);
  expect(emulator.issuedSecretAccessKeys().length).toBeGreaterThan(0);
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

function driverFor(stack: SynthesizedStack): StackDriver {
  emulator.reset();
  const driver = new StackDriver(emulator, stack);
  drivers.push(driver);
  return driver;
}

test('create, no-op update, rotation by serial, clean-up of the old key, stack delete', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  const secretArn = driver.secretArn(logicalId);

  const created = await driver.create(logicalId);
  const firstKey = expectSuccess(created);
  expect(created.Data).toEqual({ AccessKeyId: firstKey });
  expect(keyIds(emulator, BUCKET)).toEqual([firstKey]);
  expect(currentKey(emulator, secretArn)).toEqual(expect.objectContaining({
    accessKeyId: firstKey, bucketName: BUCKET, region: 'us-east-1', bucketUrl: expect.stringContaining(BUCKET),
  }));

  const unchanged = await driver.update(logicalId, firstKey, first.template, first.template);
  expect(expectSuccess(unchanged)).toBe(firstKey);
  expect(keyIds(emulator, BUCKET)).toEqual([firstKey]);

  const rotated = await driver.update(logicalId, firstKey, bumped.template, first.template);
  const secondKey = expectSuccess(rotated);
  expect(secondKey).not.toBe(firstKey);
  expect(keyIds(emulator, BUCKET)).toEqual([firstKey, secondKey].sort());
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(secondKey);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);

  // UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the old key goes, with the old properties.
  expectSuccess(await driver.delete(logicalId, firstKey, first.template));
  expect(keyIds(emulator, BUCKET)).toEqual([secondKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(secondKey);

  expectSuccess(await driver.delete(logicalId, secondKey, bumped.template));
  expect(keyIds(emulator, BUCKET)).toEqual([]);
  // The previous key is long gone: the secret is not rolled back to it.
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(secondKey);
});

test('moving the key to another bucket creates it there and deletes it from the old one', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  const firstKey = expectSuccess(await driver.create(logicalId));

  const movedKey = expectSuccess(await driver.update(logicalId, firstKey, moved.template, first.template));
  expect(keyIds(emulator, OTHER_BUCKET)).toEqual([movedKey]);
  expect(currentKey(emulator, driver.secretArn(logicalId, moved.template))?.bucketName).toBe(OTHER_BUCKET);

  expectSuccess(await driver.delete(logicalId, firstKey, first.template));
  expect(keyIds(emulator, BUCKET)).toEqual([]);
  expect(keyIds(emulator, OTHER_BUCKET)).toEqual([movedKey]);
});

test('rollback of a rotation deletes the new key and gives the secret the old one back', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  const secretArn = driver.secretArn(logicalId);
  const oldKey = expectSuccess(await driver.create(logicalId));
  const newKey = expectSuccess(await driver.update(logicalId, oldKey, bumped.template, first.template));
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(newKey);

  // UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: CloudFormation deletes the new physical id.
  expectSuccess(await driver.delete(logicalId, newKey, bumped.template));

  expect(keyIds(emulator, BUCKET)).toEqual([oldKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(oldKey);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
});

test('rollback of a failed create: the framework answers the Delete of its marker, nothing is touched', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  const foreign = emulator.addForeignAccessKey(BUCKET);
  // A 5xx, which is never retried (a denial would be, while IAM may be propagating).
  emulator.injectFault({ operation: 'CreateBucketAccessKey', kind: 'server' });

  const failed = await driver.create(logicalId);
  expect(failed.Status).toBe('FAILED');
  expect(failed.Reason).toContain(`Could not create an access key for Lightsail bucket "${BUCKET}"`);
  const invocations = driver.invocations;

  expectSuccess(await driver.delete(logicalId, failed.PhysicalResourceId));
  expect(driver.invocations).toBe(invocations);
  expect(keyIds(emulator, BUCKET)).toEqual([foreign.accessKeyId]);
});

test('a Delete whose physical id is not a key id leaves someone else\'s key alone', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  const foreign = emulator.addForeignAccessKey(BUCKET);
  // Any call would fail: the handler must make none.
  emulator.injectFault({ operation: 'GetSecretValue', kind: 'access-denied', times: 20 });
  emulator.injectFault({ operation: 'DeleteBucketAccessKey', kind: 'access-denied', times: 20 });

  expectSuccess(await driver.delete(logicalId, 'Lifecycle-Key-1ABCDEF2GHIJK'));

  expect(driver.invocations).toBe(1);
  expect(emulator.calls()).toEqual([]);
  expect(keyIds(emulator, BUCKET)).toEqual([foreign.accessKeyId]);
});

test('the two-key limit fails the create with a reason that names the bucket, and touches nothing', async () => {
  const driver = driverFor(first);
  const foreign = [emulator.addForeignAccessKey(BUCKET), emulator.addForeignAccessKey(BUCKET)].map((key) => key.accessKeyId);

  const failed = await driver.create(keyId(driver));

  expect(failed.Status).toBe('FAILED');
  expect(failed.Reason).toContain(`Lightsail bucket "${BUCKET}" already has 2 access keys`);
  expect(failed.Reason).toContain('Lightsail allows 2 keys per bucket');
  expect(keyIds(emulator, BUCKET)).toEqual(foreign.sort());
  expect(emulator.calls().filter((call) => call.operation === 'CreateBucketAccessKey')).toEqual([]);
});

test('a bucket that does not exist fails the create with a reason that names it', async () => {
  const driver = driverFor(byName);

  const failed = await driver.create(keyId(driver));

  expect(failed.Status).toBe('FAILED');
  expect(failed.Reason).toContain('Lightsail bucket "bucket-made-elsewhere" does not exist in us-east-1');
});

test('a key of a bucket made elsewhere lives and dies like any other', async () => {
  const driver = driverFor(byName);
  emulator.createBucket('bucket-made-elsewhere');
  const logicalId = keyId(driver);

  const key = expectSuccess(await driver.create(logicalId));
  expectSecretHoldsEveryKey(emulator, 'bucket-made-elsewhere', driver.secretArn(logicalId));

  expectSuccess(await driver.delete(logicalId, key));
  expect(keyIds(emulator, 'bucket-made-elsewhere')).toEqual([]);
});

test('a bucket deleted before its key does not block the stack delete', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  const key = expectSuccess(await driver.create(logicalId));
  emulator.deleteBucket(BUCKET);

  expectSuccess(await driver.delete(logicalId, key));
});

test('a key deleted by hand does not block the stack delete', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  const key = expectSuccess(await driver.create(logicalId));
  const secretArn = driver.secretArn(logicalId);
  emulator.secretVersions(secretArn);
  await deleteKeyOutOfBand(emulator, key);

  expectSuccess(await driver.delete(logicalId, key));
});

test('the same Create delivered twice makes one key', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);

  const once = expectSuccess(await driver.create(logicalId, first.template, '5d1c0a6e-0000-4000-8000-00000000abcd'));
  const twice = expectSuccess(await driver.create(logicalId, first.template, '5d1c0a6e-0000-4000-8000-00000000abcd'));

  expect(twice).toBe(once);
  expect(keyIds(emulator, BUCKET)).toEqual([once]);
  expect(emulator.secretVersions(driver.secretArn(logicalId))).toHaveLength(1);
});

test('the same rotation delivered twice makes one new key', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  const oldKey = expectSuccess(await driver.create(logicalId));

  const requestId = '5d1c0a6e-0000-4000-8000-00000000beef';
  const once = expectSuccess(await driver.update(logicalId, oldKey, bumped.template, first.template, requestId));
  const twice = expectSuccess(await driver.update(logicalId, oldKey, bumped.template, first.template, requestId));

  expect(twice).toBe(once);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey, once].sort());
});

async function deleteKeyOutOfBand(target: AwsEmulator, accessKeyId: string): Promise<void> {
  const { DeleteBucketAccessKeyCommand, LightsailClient } = await import('@aws-sdk/client-lightsail');
  const client = new LightsailClient({
    endpoint: target.endpoint, region: target.region, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
  });
  await client.send(new DeleteBucketAccessKeyCommand({ bucketName: BUCKET, accessKeyId }));
  client.destroy();
}
