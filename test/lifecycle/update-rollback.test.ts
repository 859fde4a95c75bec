/**
 * The rollback of a failed Update, through the Provider framework and the bundled handlers:
 * CloudFormation sends another Update, with the old properties, the failed ones as
 * OldResourceProperties and the physical id it kept: `driver.update(id, kept, oldTemplate, failedTemplate)`.
 */
import { AwsEmulator } from '../../local/emulator';
import { emittedTexts, leaks } from '../../local/leaks';
import { RotationDriver } from '../../local/rotation-driver';
import { StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { currentKey, expectSecretHoldsEveryKey, expectSuccess, keyId, keyIds, synthesizeKeyStack } from './fixture';

const BUCKET = 'lifecycle-bucket';
const OTHER_BUCKET = 'lifecycle-other-bucket';

jest.setTimeout(60_000);

let emulator: AwsEmulator;
let first: SynthesizedStack;
let bumped: SynthesizedStack;
let moved: SynthesizedStack;
let renamed: SynthesizedStack;
let rotating: SynthesizedStack;
let rotatingBumped: SynthesizedStack;
const drivers: StackDriver[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeKeyStack({ serial: 1, secretName: 'lifecycle-key' });
  bumped = synthesizeKeyStack({ serial: 2, secretName: 'lifecycle-key' });
  moved = synthesizeKeyStack({ serial: 1, secretName: 'lifecycle-key', bucketName: OTHER_BUCKET });
  renamed = synthesizeKeyStack({ serial: 1, secretName: 'lifecycle-key-renamed' });
  rotating = synthesizeKeyStack({ serial: 1, rotating: true });
  rotatingBumped = synthesizeKeyStack({ serial: 2, rotating: true });
});

afterAll(async () => {
  const texts = drivers.flatMap((driver) => emittedTexts(driver, [first, bumped, moved, renamed, rotating, rotatingBumped]));
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

async function deployed(stack: SynthesizedStack = first) {
  emulator.reset();
  const driver = new StackDriver(emulator, stack);
  drivers.push(driver);
  const logicalId = keyId(driver);
  const oldKey = expectSuccess(await driver.create(logicalId));
  return { driver, logicalId, oldKey, secretArn: driver.secretArn(logicalId) };
}

function callsOf(operation: string, from = 0): number {
  return emulator.calls().slice(from).filter((call) => call.operation === operation && call.status === 200).length;
}

test('a serial bump on a bucket that holds a foreign key fails; its rollback succeeds with the old id', async () => {
  const { driver, logicalId, oldKey, secretArn } = await deployed();
  const foreign = emulator.addForeignAccessKey(BUCKET).accessKeyId;

  const failed = await driver.update(logicalId, oldKey, bumped.template, first.template);
  expect(failed.Status).toBe('FAILED');
  expect(failed.Reason).toContain('Lightsail allows 2 keys per bucket');

  const rolledBack = await driver.update(logicalId, oldKey, first.template, bumped.template);

  expect(expectSuccess(rolledBack)).toBe(oldKey);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey, foreign].sort());
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(oldKey);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn, [foreign]);
});

test('a bump whose new key could not be stored: the rollback answers the old id and mints nothing', async () => {
  const { driver, logicalId, oldKey, secretArn } = await deployed();
  // Every attempt of the SDK's own retries fails: the handler deletes the new key again.
  emulator.injectFault({ operation: 'PutSecretValue', kind: 'server', times: 4 });

  const failed = await driver.update(logicalId, oldKey, bumped.template, first.template);
  expect(failed.Status).toBe('FAILED');
  expect(failed.Reason).toContain('was deleted again');
  emulator.clearFaults();
  const before = emulator.calls().length;

  const rolledBack = await driver.update(logicalId, oldKey, first.template, bumped.template);

  expect(expectSuccess(rolledBack)).toBe(oldKey);
  expect(callsOf('CreateBucketAccessKey', before)).toBe(0);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(oldKey);
});

/** The bump succeeds in the handler, but CloudFormation never gets the answer: the new id is unknown to it. */
async function lostAnswer(driver: StackDriver, logicalId: string, oldKey: string, failedTemplate: SynthesizedStack): Promise<string> {
  const lost = expectSuccess(await driver.update(logicalId, oldKey, failedTemplate.template, first.template));
  expect(lost).not.toBe(oldKey);
  return lost;
}

function deletedKeyIds(from: number): string[] {
  return emulator.calls().slice(from).filter((call) => call.operation === 'DeleteBucketAccessKey').map((call) => call.target ?? '');
}

test('a bump whose answer CloudFormation never got: the rollback deletes the new key and makes the old one current again', async () => {
  const { driver, logicalId, oldKey, secretArn } = await deployed();
  const lost = await lostAnswer(driver, logicalId, oldKey, bumped);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(lost);
  const before = emulator.calls().length;

  const rolledBack = await driver.update(logicalId, oldKey, first.template, bumped.template);

  expect(expectSuccess(rolledBack)).toBe(oldKey);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(oldKey);
  expect(callsOf('CreateBucketAccessKey', before)).toBe(0);
  expect(callsOf('DeleteBucketAccessKey', before)).toBe(1);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
});

test('the same, for a key moved to another bucket: the new key goes from the other bucket', async () => {
  const { driver, logicalId, oldKey, secretArn } = await deployed();
  const lost = await lostAnswer(driver, logicalId, oldKey, moved);
  expect(keyIds(emulator, OTHER_BUCKET)).toEqual([lost]);

  expect(expectSuccess(await driver.update(logicalId, oldKey, first.template, moved.template))).toBe(oldKey);

  expect(keyIds(emulator, OTHER_BUCKET)).toEqual([]);
  expect(keyIds(emulator, BUCKET)).toEqual([oldKey]);
  expect(currentKey(emulator, secretArn)).toEqual(expect.objectContaining({ accessKeyId: oldKey, bucketName: BUCKET }));
});

test('the same, for a renamed secret: the new key goes with the new secret, the old secret is untouched', async () => {
  const { driver, logicalId, oldKey, secretArn } = await deployed();
  const lost = await lostAnswer(driver, logicalId, oldKey, renamed);
  const renamedArn = driver.secretArn(logicalId, renamed.template);
  expect(renamedArn).not.toBe(secretArn);
  expect(currentKey(emulator, renamedArn)?.accessKeyId).toBe(lost);
  const versionsBefore = emulator.secretVersions(secretArn);

  expect(expectSuccess(await driver.update(logicalId, oldKey, first.template, renamed.template))).toBe(oldKey);

  expect(keyIds(emulator, BUCKET)).toEqual([oldKey]);
  expect(emulator.secretVersions(secretArn)).toEqual(versionsBefore);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(oldKey);
});

test('after two rotations made the physical id stale: the rollback returns to the rotated key of that generation', async () => {
  const { driver, logicalId, oldKey, secretArn } = await deployed(rotating);
  const rotation = new RotationDriver(emulator, driver);
  expect((await rotation.rotate(secretArn)).failedStep).toBeUndefined();
  expect((await rotation.rotate(secretArn)).failedStep).toBeUndefined();
  const rotated = currentKey(emulator, secretArn)!.accessKeyId;
  expect(keyIds(emulator, BUCKET)).not.toContain(oldKey);
  const lost = expectSuccess(await driver.update(logicalId, oldKey, rotatingBumped.template, rotating.template));
  expect(keyIds(emulator, BUCKET)).toEqual([rotated, lost].sort());
  const before = emulator.calls().length;

  expect(expectSuccess(await driver.update(logicalId, oldKey, rotating.template, rotatingBumped.template))).toBe(oldKey);

  expect(keyIds(emulator, BUCKET)).toEqual([rotated]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(rotated);
  expect(deletedKeyIds(before)).toEqual([BUCKET]);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
  // The stack's later Delete still finds the generation through the secret.
  expectSuccess(await driver.delete(logicalId, oldKey, rotating.template));
  expect(keyIds(emulator, BUCKET)).toEqual([]);
});

test('a genuine change back to the old values stays a replacement', async () => {
  const { driver, logicalId, oldKey, secretArn } = await deployed();
  const newKey = expectSuccess(await driver.update(logicalId, oldKey, bumped.template, first.template));
  expectSuccess(await driver.delete(logicalId, oldKey, first.template));

  const back = expectSuccess(await driver.update(logicalId, newKey, first.template, bumped.template));

  expect(back).not.toBe(newKey);
  expect(back).not.toBe(oldKey);
  expect(keyIds(emulator, BUCKET)).toEqual([newKey, back].sort());
  expect(currentKey(emulator, secretArn)).toEqual(expect.objectContaining({ accessKeyId: back, serial: '1' }));
});

test('the Delete of a successful replacement during a rollback keeps working', async () => {
  const { driver, logicalId, oldKey, secretArn } = await deployed();
  const newKey = expectSuccess(await driver.update(logicalId, oldKey, bumped.template, first.template));

  expectSuccess(await driver.delete(logicalId, newKey, bumped.template));

  expect(keyIds(emulator, BUCKET)).toEqual([oldKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(oldKey);
});
