/**
 * A call that hangs is abandoned after the SDK's request timeout (5 s), so the handler finishes,
 * and cleans up, well inside its function's timeout.
 */
import { AwsEmulator } from '../../local/emulator';
import { StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { expectSecretHoldsEveryKey, expectSuccess, keyId, keyIds, synthesizeKeyStack } from './fixture';

const BUCKET = 'lifecycle-bucket';

let emulator: AwsEmulator;
let stack: SynthesizedStack;

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  stack = synthesizeKeyStack({ serial: 1 });
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => emulator.reset());

test('a PutSecretValue that hangs is retried with the same token: one key, one version', async () => {
  const driver = new StackDriver(emulator, stack);
  const logicalId = keyId(driver);
  emulator.injectFault({ operation: 'PutSecretValue', kind: 'hang' });

  const key = expectSuccess(await driver.create(logicalId));

  expect(keyIds(emulator, BUCKET)).toEqual([key]);
  expect(emulator.secretVersions(driver.secretArn(logicalId))).toHaveLength(1);
  expect(emulator.calls().filter((call) => call.operation === 'PutSecretValue')).toHaveLength(2);
  expectSecretHoldsEveryKey(emulator, BUCKET, driver.secretArn(logicalId));
}, 30_000);

test('a CreateBucketAccessKey that acts but never answers is not repeated, and its key is named', async () => {
  const driver = new StackDriver(emulator, stack);
  emulator.injectFault({ operation: 'CreateBucketAccessKey', kind: 'hang', afterEffect: true });

  const failed = await driver.create(keyId(driver));

  expect(failed.Status).toBe('FAILED');
  const [made] = keyIds(emulator, BUCKET);
  expect(failed.Reason).toContain(`Key ${made} appeared on the bucket during the failed call`);
  expect(emulator.calls().filter((call) => call.operation === 'CreateBucketAccessKey')).toHaveLength(1);
}, 30_000);
