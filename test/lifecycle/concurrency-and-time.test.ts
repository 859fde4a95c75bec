/**
 * Concurrency and time through the Provider framework and the bundled handlers (issue 14 §4): one
 * event run twice at once, the event's deadline, Lightsail's operations, rotation during a serial
 * bump's deployment, and damage done by hand.
 */
import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsEmulator } from '../../local/emulator';
import { emittedTexts, leaks } from '../../local/leaks';
import { RotationDriver } from '../../local/rotation-driver';
import { StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { currentKey, expectSecretHoldsEveryKey, expectSuccess, keyId, keyIds, synthesizeKeyStack } from './fixture';

const BUCKET = 'lifecycle-bucket';

jest.setTimeout(60_000);

let emulator: AwsEmulator;
let first: SynthesizedStack;
let bumped: SynthesizedStack;
let rotating: SynthesizedStack;
let rotatingBumped: SynthesizedStack;
const drivers: StackDriver[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeKeyStack({ serial: 1 });
  bumped = synthesizeKeyStack({ serial: 2 });
  rotating = synthesizeKeyStack({ serial: 1, rotating: true });
  rotatingBumped = synthesizeKeyStack({ serial: 2, rotating: true });
});

afterAll(async () => {
  const texts = drivers.flatMap((driver) => emittedTexts(driver, [first, bumped, rotating, rotatingBumped]));
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

function driverFor(stack: SynthesizedStack, functionTimeoutSeconds?: number): StackDriver {
  emulator.reset();
  const driver = new StackDriver(emulator, stack, { functionTimeoutSeconds });
  drivers.push(driver);
  return driver;
}

function callsOf(operation: string): number {
  return emulator.calls().filter((call) => call.operation === operation).length;
}

test('the same Create run twice at once: both answer the same key, and the other key is deleted', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  // Both runs read, create and store before either store lands: the second store meets the first's version.
  emulator.injectFault({ operation: 'PutSecretValue', kind: 'hang', hangMs: 3_000, times: 2 });
  const requestId = '5d1c0a6e-0000-4000-8000-00000000c0c0';

  const [one, two] = await Promise.all([driver.create(logicalId, first.template, requestId), driver.create(logicalId, first.template, requestId)]);

  expect(callsOf('CreateBucketAccessKey')).toBe(2);
  expect(expectSuccess(two)).toBe(expectSuccess(one));
  expect(keyIds(emulator, BUCKET)).toEqual([one.PhysicalResourceId]);
  expect(emulator.secretVersions(driver.secretArn(logicalId))).toHaveLength(1);
  expectSecretHoldsEveryKey(emulator, BUCKET, driver.secretArn(logicalId));
});

test('a store that never answers ends at the event\'s deadline, and the new key is deleted before the function\'s timeout', async () => {
  const driver = driverFor(first, 10);
  const logicalId = keyId(driver);
  emulator.injectFault({ operation: 'PutSecretValue', kind: 'hang', times: 10 });

  const failed = await driver.create(logicalId);

  expect(failed.Status).toBe('FAILED');
  expect(failed.Reason).toContain('DeadlineExceeded: Secrets Manager did not answer PutSecretValue');
  expect(failed.Reason).toMatch(/The new key [A-Z0-9]+ was deleted again; nothing else changed/);
  expect(failed.Reason).not.toContain('Task timed out');
  expect(keyIds(emulator, BUCKET)).toEqual([]);
});

test('a slot counts as freed only once the delete\'s operation has finished', async () => {
  const driver = driverFor(rotating);
  const logicalId = keyId(driver);
  const secretArn = driver.secretArn(logicalId);
  const firstKey = expectSuccess(await driver.create(logicalId));
  expect((await new RotationDriver(emulator, driver).rotate(secretArn)).failedStep).toBeUndefined();
  expect(keyIds(emulator, BUCKET)).toHaveLength(2);
  // The bump frees the slot of the key only AWSPREVIOUS holds; Lightsail takes two polls to delete it.
  emulator.queueLightsailOperation({ operationType: 'DeleteBucketAccessKey', startedPolls: 2 });

  const newKey = expectSuccess(await driver.update(logicalId, firstKey, rotatingBumped.template, rotating.template));

  expect(callsOf('GetOperation')).toBe(3);
  expect(keyIds(emulator, BUCKET)).not.toContain(firstKey);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(newKey);
});

test('a create whose operation fails makes no key and stores nothing; a delete whose operation fails says so', async () => {
  const driver = driverFor(first);
  const logicalId = keyId(driver);
  emulator.queueLightsailOperation({ operationType: 'CreateBucketAccessKey', startedPolls: 1, fails: true });

  const failed = await driver.create(logicalId);

  expect(failed.Status).toBe('FAILED');
  expect(failed.Reason).toMatch(/Lightsail operation [0-9a-f-]+ \(CreateBucketAccessKey on lifecycle-bucket\) failed \(InternalError: /);
  expect(keyIds(emulator, BUCKET)).toEqual([]);
  expect(emulator.secretVersions(driver.secretArn(logicalId))).toEqual([]);

  const key = expectSuccess(await driver.create(logicalId));
  emulator.queueLightsailOperation({ operationType: 'DeleteBucketAccessKey', fails: true });
  const notDeleted = await driver.delete(logicalId, key);
  expect(notDeleted.Status).toBe('FAILED');
  expect(notDeleted.Reason).toMatch(new RegExp(`Could not delete access key ${key} of Lightsail bucket "${BUCKET}": Lightsail operation [0-9a-f-]+ ` +
    '\\(DeleteBucketAccessKey on lifecycle-bucket\\) failed'));
  expect(keyIds(emulator, BUCKET)).toEqual([key]);
});

test('a rotation during a serial bump\'s deployment never deletes the previous generation\'s key, and fails clearly', async () => {
  const driver = driverFor(rotating);
  const logicalId = keyId(driver);
  const secretArn = driver.secretArn(logicalId);
  const oldKey = expectSuccess(await driver.create(logicalId));
  const newKey = expectSuccess(await driver.update(logicalId, oldKey, rotatingBumped.template, rotating.template));
  const rotation = new RotationDriver(emulator, driver);

  const outcome = await rotation.rotate(secretArn);

  expect(outcome.failedStep).toBe('createSecret');
  expect(outcome.errorMessage).toContain(`${oldKey} (AWSPREVIOUS, serial 1), belongs to another generation than the current key (serial 2)`);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey, newKey].sort());
  // The deployment rolls back after all: the key it returns to is still there.
  expect(expectSuccess(await driver.update(logicalId, oldKey, rotating.template, rotatingBumped.template))).toBe(oldKey);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(oldKey);
});

test('a replacement that deletes a failed rotation\'s AWSPENDING key takes the label off, so the next rotation starts afresh', async () => {
  const driver = driverFor(rotating);
  const logicalId = keyId(driver);
  const secretArn = driver.secretArn(logicalId);
  const oldKey = expectSuccess(await driver.create(logicalId));
  const rotation = new RotationDriver(emulator, driver);
  // testSecret never succeeds: the rotation stops with its key AWSPENDING, and the bucket is full.
  emulator.injectFault({ operation: 'ListObjectsV2', kind: 'server', times: 50 });
  expect((await rotation.rotate(secretArn)).failedStep).toBe('testSecret');
  emulator.clearFaults();
  expect(keyIds(emulator, BUCKET)).toHaveLength(2);

  const newKey = expectSuccess(await driver.update(logicalId, oldKey, rotatingBumped.template, rotating.template));
  expect(emulator.secretVersions(secretArn).filter((version) => version.stages.includes('AWSPENDING'))).toEqual([]);
  expectSuccess(await driver.delete(logicalId, oldKey, rotating.template));

  const next = await rotation.rotate(secretArn);
  expect(next.failedStep).toBeUndefined();
  expect(currentKey(emulator, secretArn)?.accessKeyId).not.toBe(newKey);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
});

describe('damage done by hand: Delete still deletes what its physical id names, and says what it could not check', () => {
  test('a secret its encryption key can no longer decrypt', async () => {
    const driver = driverFor(first);
    const logicalId = keyId(driver);
    const key = expectSuccess(await driver.create(logicalId));
    emulator.damageEncryptionKey(driver.secretArn(logicalId), 'KMSInvalidStateException');

    const deleted = await driver.delete(logicalId, key);

    expect(expectSuccess(deleted)).toBe(key);
    expect(deleted.Data?.NotChecked).toContain('KMSInvalidStateException');
    expect(keyIds(emulator, BUCKET)).toEqual([]);
    expect(driver.logLines.some((line) => line.includes('"step":"secret-not-checked"'))).toBe(true);
  });

  test('a secret scheduled for deletion', async () => {
    const driver = driverFor(first);
    const logicalId = keyId(driver);
    const key = expectSuccess(await driver.create(logicalId));
    const client = new SecretsManagerClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' } });
    await client.send(new DeleteSecretCommand({ SecretId: driver.secretArn(logicalId), RecoveryWindowInDays: 7 }));
    client.destroy();

    const deleted = await driver.delete(logicalId, key);

    expect(expectSuccess(deleted)).toBe(key);
    expect(deleted.Data?.NotChecked).toContain('marked for deletion');
    expect(keyIds(emulator, BUCKET)).toEqual([]);
  });

  test('a bucket deleted in the console', async () => {
    const driver = driverFor(first);
    const logicalId = keyId(driver);
    const key = expectSuccess(await driver.create(logicalId));
    emulator.deleteBucket(BUCKET);

    expectSuccess(await driver.delete(logicalId, key));
    expect(driver.logLines.some((line) => line.includes('"step":"key-already-gone"'))).toBe(true);
  });
});
