/**
 * Many keys at once against a throttling Lightsail: CloudFormation creates (and deletes) independent
 * custom resources in parallel, so every key's handler runs at the same moment, and a rotation
 * schedule rotates every secret at once. Each event must succeed while its function has time left.
 * A low rate with a small burst makes the point in seconds: all events arrive together.
 */
import { AwsEmulator, RateLimit } from '../../local/emulator';
import { emittedTexts, leaks } from '../../local/leaks';
import { RotationDriver } from '../../local/rotation-driver';
import { CfnResponse, StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { currentKey, expectSecretHoldsEveryKey, expectSuccess, keyIds, scaleBucketNames, synthesizeManyKeysStack } from '../lifecycle/fixture';

/**
 * 16 concurrent Creates make about 48 Lightsail calls: 8 s of calls at this rate, far beyond the few
 * attempts of the SDK's default retry (a handler that gives up after those fails most of them).
 */
const LOW_RATE: RateLimit = { ratePerSecond: 6, burst: 1 };
/** Another count at another rate: 24 Creates (72 calls) or 16 rotations (48) still need 5-7 s of calls. */
const OTHER_RATE: RateLimit = { ratePerSecond: 10, burst: 1 };
/** Enough for the retries, short enough that a handler that never gives up fails the test quickly. */
const FUNCTION_TIMEOUT_SECONDS = 40;

jest.setTimeout(120_000);

let emulator: AwsEmulator;
const stacks: SynthesizedStack[] = [];
const drivers: StackDriver[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
});

afterAll(async () => {
  const texts = drivers.flatMap((driver) => emittedTexts(driver, stacks));
  expect(drivers.length).toBeGreaterThan(0);
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

function deploy(stack: SynthesizedStack): StackDriver {
  emulator.reset();
  stacks.push(stack);
  const driver = new StackDriver(emulator, stack, { functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS });
  drivers.push(driver);
  return driver;
}

/** "logical id: reason" for every event that failed. */
function failures(logicalIds: string[], responses: CfnResponse[]): string[] {
  return responses.flatMap((response, index) => (response.Status === 'SUCCESS' ? [] : [`${logicalIds[index]}: ${response.Reason}`]));
}

/** Every key's bucket holds exactly the keys of its resources, and each secret holds its own key. */
function expectEveryKeyInPlace(driver: StackDriver, logicalIds: string[], keys: string[], bucketNames: string[]): void {
  const expected = Object.fromEntries(bucketNames.map((bucketName) => [bucketName, [] as string[]]));
  logicalIds.forEach((logicalId, index) => {
    const { BucketName, SecretArn } = driver.properties(logicalId);
    expected[BucketName].push(keys[index]);
    expect(currentKey(emulator, SecretArn)).toEqual(expect.objectContaining({ accessKeyId: keys[index], bucketName: BucketName }));
    expect(emulator.secretVersions(SecretArn)).toHaveLength(1);
  });
  const actual = Object.fromEntries(bucketNames.map((bucketName) => [bucketName, keyIds(emulator, bucketName)]));
  expect(actual).toEqual(Object.fromEntries(Object.entries(expected).map(([bucketName, ids]) => [bucketName, ids.sort()])));
  expect(new Set(keys).size).toBe(keys.length);
}

async function createAndDeleteAtOnce(buckets: number, keysPerBucket: number, limit: RateLimit): Promise<void> {
  const driver = deploy(synthesizeManyKeysStack({ buckets, keysPerBucket }));
  const logicalIds = driver.keyLogicalIds();
  expect(logicalIds).toHaveLength(buckets * keysPerBucket);
  emulator.limitRate('lightsail', limit);

  const created = await Promise.all(logicalIds.map((logicalId) => driver.create(logicalId)));

  expect(failures(logicalIds, created)).toEqual([]);
  const keys = created.map(expectSuccess);
  expectEveryKeyInPlace(driver, logicalIds, keys, scaleBucketNames(buckets));
  const throttledDuringCreates = emulator.gateCounts('lightsail').throttled;
  // The limit did bite: this is the throttled path, not a lucky unthrottled one.
  expect(throttledDuringCreates).toBeGreaterThan(0);

  const deleted = await Promise.all(logicalIds.map((logicalId, index) => driver.delete(logicalId, keys[index])));

  expect(failures(logicalIds, deleted)).toEqual([]);
  for (const bucketName of scaleBucketNames(buckets)) {
    expect(keyIds(emulator, bucketName)).toEqual([]);
  }
  expect(emulator.gateCounts('lightsail').throttled).toBeGreaterThan(throttledDuringCreates);
}

test('16 keys on 8 buckets, created at once and deleted at once, under throttling: every event succeeds', async () => {
  await createAndDeleteAtOnce(8, 2, LOW_RATE);
});

test('24 keys on 12 buckets at another rate: the rule, not the number', async () => {
  await createAndDeleteAtOnce(12, 2, OTHER_RATE);
});

test('16 keys rotated at once under throttling: every rotation succeeds, nothing orphaned', async () => {
  const driver = deploy(synthesizeManyKeysStack({ buckets: 16, keysPerBucket: 1, rotating: true }));
  const logicalIds = driver.keyLogicalIds();
  const firstKeys = await Promise.all(logicalIds.map(async (logicalId) => expectSuccess(await driver.create(logicalId))));
  const secretArns = logicalIds.map((logicalId) => driver.secretArn(logicalId));
  const rotation = new RotationDriver(emulator, driver);
  emulator.limitRate('lightsail', OTHER_RATE);

  const outcomes = await Promise.all(secretArns.map((secretArn) => rotation.rotate(secretArn)));

  expect(outcomes.filter((outcome) => outcome.failedStep).map((outcome) => `${outcome.failedStep}: ${outcome.errorMessage}`)).toEqual([]);
  expect(emulator.gateCounts('lightsail').throttled).toBeGreaterThan(0);
  logicalIds.forEach((logicalId, index) => {
    const bucketName = driver.properties(logicalId).BucketName;
    const rotated = currentKey(emulator, secretArns[index])!.accessKeyId;
    expect(rotated).not.toBe(firstKeys[index]);
    expect(keyIds(emulator, bucketName)).toEqual([firstKeys[index], rotated].sort());
    expectSecretHoldsEveryKey(emulator, bucketName, secretArns[index]);
  });
});
