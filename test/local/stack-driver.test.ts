/** The CloudFormation player itself: events in flight at once, and the options of its functions. */
import { GetBucketsCommand } from '@aws-sdk/client-lightsail';
import { AwsEmulator } from '../../local/emulator';
import { StackDriver, SynthesizedStack } from '../../local/stack-driver';
import { functionCredentials } from '../../local/stack-iam';
import { synthesizeKeyStack, synthesizeManyKeysStack } from '../lifecycle/fixture';
import { lightsailClientFor } from './emulator/testing';

jest.setTimeout(60_000);

let emulator: AwsEmulator;
let stack: SynthesizedStack;

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  stack = synthesizeManyKeysStack({ buckets: 1, keysPerBucket: 2 });
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => emulator.reset());

test('events sent at once each get their own response, and every log line is kept', async () => {
  const driver = new StackDriver(emulator, stack);
  const logicalIds = driver.keyLogicalIds();
  expect(logicalIds).toHaveLength(2);

  const responses = await Promise.all(logicalIds.map((logicalId) => driver.create(logicalId)));

  expect(responses.map((response) => [response.LogicalResourceId, response.Status])).toEqual(logicalIds.map((logicalId) => [logicalId, 'SUCCESS']));
  expect(new Set(responses.map((response) => response.PhysicalResourceId)).size).toBe(2);
  expect(emulator.accessKeys('scale-bucket-0').map((key) => key.accessKeyId).sort())
    .toEqual(responses.map((response) => response.PhysicalResourceId).sort());
  expect(driver.invocations).toBe(2);
  expect(driver.responseBodies).toHaveLength(2);
  // The framework's own lines (one "onEventHandler" per event) and the handler's.
  expect(driver.logLines.filter((line) => line.includes('onEventHandler'))).toHaveLength(2);
  expect(driver.logLines.filter((line) => line.includes('key-created'))).toHaveLength(2);
});

test('functionTimeoutSeconds and endpoint change how every function of the stack runs', () => {
  const plain = new StackDriver(emulator, stack);
  emulator.reset();
  const tuned = new StackDriver(emulator, stack, { functionTimeoutSeconds: 7, endpoint: 'http://127.0.0.1:9' });
  const functionIds = Object.entries(stack.template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function' && resource.Properties?.Handler === 'index.handler')
    .map(([logicalId]) => logicalId);
  expect(functionIds.length).toBeGreaterThan(0);

  for (const functionId of functionIds) {
    const template = Number(stack.template.Resources[functionId].Properties?.Timeout);
    expect(plain.functionSpec(stack.template, functionId).timeoutSeconds).toBe(template);
    const spec = tuned.functionSpec(stack.template, functionId);
    expect(spec.timeoutSeconds).toBe(7);
    expect(spec.environment).toEqual(expect.objectContaining({
      AWS_ENDPOINT_URL_LIGHTSAIL: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    }));
  }
});

test('policies are deployed as CloudFormation does: a function\'s own principal; create and update apply their template first, delete applies none', async () => {
  const first = synthesizeKeyStack({ serial: 1 });
  const moved = synthesizeKeyStack({ serial: 1, bucketName: 'driver-moved-bucket' });
  const driver = new StackDriver(emulator, first);
  const handlerId = Object.entries(first.template.Resources)
    .find(([, resource]) => resource.Type === 'AWS::Lambda::Function' && /^Creates and deletes/.test(String(resource.Properties?.Description)))![0];
  const credentials = functionCredentials(handlerId);
  expect(driver.functionSpec(first.template, handlerId).environment).toEqual(expect.objectContaining(credentials));
  expect(credentials.AWS_ACCESS_KEY_ID).not.toBe(emulator.env().AWS_ACCESS_KEY_ID);
  const installed = (): string => JSON.stringify(emulator.principalPolicies(credentials.AWS_ACCESS_KEY_ID));
  // The bucket ARNs the driver provisioned, as Lightsail reports them to an administrator.
  const bucketArnOf = async (name: string): Promise<string> =>
    (await lightsailClientFor(emulator).send(new GetBucketsCommand({ bucketName: name }))).buckets![0].arn!;
  const firstArn = await bucketArnOf('lifecycle-bucket');

  const logicalId = driver.keyLogicalIds()[0];
  const firstKey = (await driver.create(logicalId)).PhysicalResourceId;
  expect(installed()).toContain(firstArn);
  const movedKey = (await driver.update(logicalId, firstKey, moved.template, first.template)).PhysicalResourceId;
  expect(installed()).toContain(await bucketArnOf('driver-moved-bucket'));
  expect(installed()).not.toContain(firstArn);
  const before = installed();
  expect((await driver.delete(logicalId, firstKey, first.template)).Status).toBe('SUCCESS');
  expect(installed()).toBe(before);
  expect(emulator.accessKeys('lifecycle-bucket')).toEqual([]);
  expect(emulator.accessKeys('driver-moved-bucket').map((key) => key.accessKeyId)).toEqual([movedKey]);
});
