/**
 * IAM is eventually consistent: right after CloudFormation adds a key's statements to the handler
 * role's policy, the handler's first calls can be denied for seconds. A denial is retried for a
 * window from the start of the event (half the function's remaining time, at most a minute), then
 * the event fails with a reason that says what was denied and that IAM may still have been
 * propagating. A short function timeout keeps the window, and this file, short.
 */
import { performance } from 'perf_hooks';
import { AwsEmulator, ServiceName } from '../../local/emulator';
import { emittedTexts, leaks } from '../../local/leaks';
import { RotationDriver } from '../../local/rotation-driver';
import { StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { functionCredentials } from '../../local/stack-iam';
import { currentKey, expectSecretHoldsEveryKey, expectSuccess, keyId, keyIds, synthesizeKeyStack } from '../lifecycle/fixture';

const BUCKET = 'lifecycle-bucket';
/** The retry window is then about 6 s from the start of the event. */
const FUNCTION_TIMEOUT_SECONDS = 12;
/** Well inside the window. */
const PROPAGATION_MS = 2_000;

jest.setTimeout(60_000);

let emulator: AwsEmulator;
let stack: SynthesizedStack;
let rotatingStack: SynthesizedStack;
const drivers: StackDriver[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  stack = synthesizeKeyStack({ serial: 1 });
  rotatingStack = synthesizeKeyStack({ serial: 1, rotating: true });
});

afterAll(async () => {
  const texts = drivers.flatMap((driver) => emittedTexts(driver, [stack, rotatingStack]));
  expect(drivers.length).toBeGreaterThan(0);
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

function driverFor(synthesized: SynthesizedStack): StackDriver {
  emulator.reset();
  const driver = new StackDriver(emulator, synthesized, { functionTimeoutSeconds: FUNCTION_TIMEOUT_SECONDS });
  drivers.push(driver);
  return driver;
}

/**
 * The role's new statements (the key's bucket and its secret) reach the services together, `ms`
 * after the handler's first call (counted from there, so that a slow process start does not use it up).
 */
function denyHandlerFor(ms: number, services: ServiceName[] = ['lightsail', 'secretsmanager'], driver = drivers[drivers.length - 1]): void {
  // Each function signs with its own access key (its principal): the test's inspection is never denied.
  const functionIds = Object.entries(driver.stack.template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function' && /^(Creates and deletes|Rotates)/.test(String(resource.Properties?.Description)))
    .map(([functionId]) => functionId);
  expect(functionIds.length).toBeGreaterThan(0);
  for (const functionId of functionIds) {
    emulator.denyFor(services, ms, { accessKeyId: functionCredentials(functionId).AWS_ACCESS_KEY_ID, fromFirstRequest: true });
  }
}

function deniedCalls(): number {
  return emulator.gateCounts('lightsail').denied + emulator.gateCounts('secretsmanager').denied;
}

test('a Create denied until the grant propagates succeeds: one key, held by the secret', async () => {
  const driver = driverFor(stack);
  const logicalId = keyId(driver);
  denyHandlerFor(PROPAGATION_MS);

  const key = expectSuccess(await driver.create(logicalId));

  expect(deniedCalls()).toBeGreaterThan(0);
  expect(keyIds(emulator, BUCKET)).toEqual([key]);
  expect(currentKey(emulator, driver.secretArn(logicalId))?.accessKeyId).toBe(key);
  expectSecretHoldsEveryKey(emulator, BUCKET, driver.secretArn(logicalId));
});

test('a Delete denied until the grant propagates succeeds: the bucket ends empty', async () => {
  const driver = driverFor(stack);
  const logicalId = keyId(driver);
  const key = expectSuccess(await driver.create(logicalId));
  denyHandlerFor(PROPAGATION_MS);

  expectSuccess(await driver.delete(logicalId, key));

  expect(deniedCalls()).toBeGreaterThan(0);
  expect(keyIds(emulator, BUCKET)).toEqual([]);
});

test('a rotation denied until the grant propagates succeeds: a new key, the old one kept as previous', async () => {
  const driver = driverFor(rotatingStack);
  const logicalId = keyId(driver);
  const firstKey = expectSuccess(await driver.create(logicalId));
  const secretArn = driver.secretArn(logicalId);
  denyHandlerFor(PROPAGATION_MS);

  const outcome = await new RotationDriver(emulator, driver).rotate(secretArn);

  expect(outcome.errorMessage).toBeUndefined();
  expect(deniedCalls()).toBeGreaterThan(0);
  const rotated = currentKey(emulator, secretArn)!.accessKeyId;
  expect(keyIds(emulator, BUCKET)).toEqual([firstKey, rotated].sort());
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
});

describe('a denial that never lifts fails the Create in time, with a reason, and leaves nothing behind', () => {
  test.each([
    ['lightsail', /lightsail:(GetBuckets|GetBucketAccessKeys|CreateBucketAccessKey)\b/, BUCKET],
    ['secretsmanager', /secretsmanager:(GetSecretValue|DescribeSecret|ListSecretVersionIds|PutSecretValue)\b/, 'secret'],
  ] as const)('%s', async (service, permission, resource) => {
    const driver = driverFor(stack);
    const logicalId = keyId(driver);
    const secretArn = driver.secretArn(logicalId);
    denyHandlerFor(Infinity, [service]);

    const started = performance.now();
    const failed = await driver.create(logicalId);
    const elapsedMs = performance.now() - started;

    expect(failed.Status).toBe('FAILED');
    expect(failed.Reason).toMatch(permission);
    expect(failed.Reason).toContain(resource === 'secret' ? secretArn : `"${resource}"`);
    expect(failed.Reason).toMatch(/IAM/);
    expect(failed.Reason).toMatch(/propagat/);
    // It retried, then gave up on its own, before Lambda would have killed it.
    expect(emulator.gateCounts(service).denied).toBeGreaterThan(1);
    expect(elapsedMs).toBeLessThan(FUNCTION_TIMEOUT_SECONDS * 1000);
    expect(keyIds(emulator, BUCKET)).toEqual([]);
    expect(emulator.secretVersions(secretArn)).toEqual([]);

    // CloudFormation rolls back: the Delete of the failed resource touches nothing.
    emulator.allow(service);
    expectSuccess(await driver.delete(logicalId, failed.PhysicalResourceId));
    expect(keyIds(emulator, BUCKET)).toEqual([]);
  });
});
