/**
 * Scheduled rotation with the synthesized assets: Secrets Manager's four steps through the bundled
 * rotation function, and the custom resource's events around them, against the local emulator.
 */
import { AwsEmulator } from '../../local/emulator';
import { emittedTexts, leaks } from '../../local/leaks';
import { RotationDriver } from '../../local/rotation-driver';
import { StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { currentKey, expectSecretHoldsEveryKey, expectSuccess, keyId, keyIds, synthesizeKeyStack } from './fixture';

const BUCKET = 'lifecycle-bucket';

jest.setTimeout(30_000);

let emulator: AwsEmulator;
let first: SynthesizedStack;
let bumped: SynthesizedStack;
const drivers: StackDriver[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeKeyStack({ serial: 1, rotating: true });
  bumped = synthesizeKeyStack({ serial: 2, rotating: true });
});

afterAll(async () => {
  const texts = drivers.flatMap((driver) => emittedTexts(driver, [first, bumped]));
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

interface Deployed {
  readonly driver: StackDriver;
  readonly rotation: RotationDriver;
  readonly logicalId: string;
  readonly secretArn: string;
  readonly firstKey: string;
}

async function deployed(): Promise<Deployed> {
  emulator.reset();
  const driver = new StackDriver(emulator, first);
  drivers.push(driver);
  const logicalId = keyId(driver);
  const firstKey = expectSuccess(await driver.create(logicalId));
  return { driver, rotation: new RotationDriver(emulator, driver), logicalId, secretArn: driver.secretArn(logicalId), firstKey };
}

test('a rotation makes a new, working key current and keeps the old one as AWSPREVIOUS', async () => {
  const { rotation, secretArn, firstKey } = await deployed();

  const outcome = await rotation.rotate(secretArn);

  expect(outcome.failedStep).toBeUndefined();
  const rotated = currentKey(emulator, secretArn)!;
  expect(rotated.accessKeyId).not.toBe(firstKey);
  expect(rotated).toEqual(expect.objectContaining({ bucketName: BUCKET, serial: '1', region: 'us-east-1' }));
  expect(keyIds(emulator, BUCKET)).toEqual([firstKey, rotated.accessKeyId].sort());
  const stages = emulator.secretVersions(secretArn).map((version) => version.stages);
  expect(stages).toEqual(expect.arrayContaining([['AWSPREVIOUS'], ['AWSCURRENT']]));
  expect(stages.flat()).not.toContain('AWSPENDING');
  // testSecret signed a request with the new key, and the emulator checked the signature.
  expect(emulator.calls().filter((call) => call.operation === 'ListObjectsV2' && call.status === 200)).toHaveLength(1);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
});

test('two rotations in a row: the key before the previous one gives up its slot', async () => {
  const { rotation, secretArn, firstKey } = await deployed();

  await rotation.rotate(secretArn);
  const second = currentKey(emulator, secretArn)!.accessKeyId;
  const outcome = await rotation.rotate(secretArn);

  expect(outcome.failedStep).toBeUndefined();
  const third = currentKey(emulator, secretArn)!.accessKeyId;
  expect(keyIds(emulator, BUCKET)).toEqual([second, third].sort());
  expect(keyIds(emulator, BUCKET)).not.toContain(firstKey);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
});

test('rotation, then stack delete: every key the resource made goes, though its physical id is stale', async () => {
  const { driver, rotation, logicalId, secretArn, firstKey } = await deployed();
  await rotation.rotate(secretArn);
  await rotation.rotate(secretArn);

  expectSuccess(await driver.delete(logicalId, firstKey));

  expect(keyIds(emulator, BUCKET)).toEqual([]);
});

test('rotation, then a serial bump: the bucket ends with the new key only, held by the secret', async () => {
  const { driver, rotation, logicalId, secretArn, firstKey } = await deployed();
  await rotation.rotate(secretArn);

  const newKey = expectSuccess(await driver.update(logicalId, firstKey, bumped.template, first.template));
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
  expectSuccess(await driver.delete(logicalId, firstKey, first.template));

  expect(keyIds(emulator, BUCKET)).toEqual([newKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(newKey);
});

test('rotation, then a serial bump that rolls back: the rotated key is current again', async () => {
  const { driver, rotation, logicalId, secretArn, firstKey } = await deployed();
  await rotation.rotate(secretArn);
  const rotated = currentKey(emulator, secretArn)!.accessKeyId;

  const newKey = expectSuccess(await driver.update(logicalId, firstKey, bumped.template, first.template));
  expectSuccess(await driver.delete(logicalId, newKey, bumped.template));

  expect(keyIds(emulator, BUCKET)).toEqual([rotated]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(rotated);
});

test('a foreign key in the bucket is never deleted to make room: the rotation fails, the secret still works', async () => {
  const { rotation, secretArn, firstKey } = await deployed();
  const foreign = emulator.addForeignAccessKey(BUCKET).accessKeyId;

  const outcome = await rotation.rotate(secretArn);

  expect(outcome.failedStep).toBe('createSecret');
  expect(outcome.errorMessage).toContain('Lightsail allows 2 keys per bucket');
  expect(keyIds(emulator, BUCKET)).toEqual([firstKey, foreign].sort());
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(firstKey);
});

describe('a rotation that fails at a step leaves no orphan and a working secret, and succeeds when retried', () => {
  test.each([
    ['createSecret', 'CreateBucketAccessKey'],
    ['createSecret', 'PutSecretValue'],
    ['setSecret', 'DescribeSecret'],
    ['testSecret', 'ListObjectsV2'],
    ['finishSecret', 'UpdateSecretVersionStage'],
  ] as const)('%s (%s failing with 5xx)', async (failingStep, operation) => {
    const { rotation, secretArn, firstKey } = await deployed();

    const outcome = await rotation.rotate(secretArn, undefined, (step) => {
      if (step === failingStep) {
        // 5xx, not AccessDenied: a denial is retried for the IAM window (test/lambda covers it).
        emulator.injectFault({ operation, kind: 'server', times: 10 });
      }
    });

    expect(outcome.failedStep).toBe(failingStep);
    expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(firstKey);
    expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);

    // Secrets Manager retries the same rotation (same token) once the cause is fixed.
    emulator.clearFaults();
    const retried = await rotation.rotate(secretArn, outcome.token);
    expect(retried.failedStep).toBeUndefined();
    expect(currentKey(emulator, secretArn)?.accessKeyId).not.toBe(firstKey);
    expect(keyIds(emulator, BUCKET)).toHaveLength(2);
    expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
  }, 30_000);

  test('testSecret waits for a new key to propagate', async () => {
    const { rotation, secretArn } = await deployed();

    const outcome = await rotation.rotate(secretArn, undefined, (step) => {
      if (step === 'testSecret') {
        emulator.delayKeyPropagation(JSON.parse(emulator.secretVersions(secretArn).find((version) => version.stages.includes('AWSPENDING'))!.secretString!).accessKeyId, 2);
      }
    });

    expect(outcome.failedStep).toBeUndefined();
    expect(emulator.calls().filter((call) => call.operation === 'ListObjectsV2').map((call) => call.status)).toEqual([403, 403, 200]);
  }, 30_000);
});
