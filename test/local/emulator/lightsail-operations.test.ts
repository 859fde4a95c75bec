/** Lightsail's operations in the emulator: answered by CreateBucketAccessKey and DeleteBucketAccessKey, followed with GetOperation. */
import {
  CreateBucketAccessKeyCommand, DeleteBucketAccessKeyCommand, GetBucketAccessKeysCommand, GetOperationCommand, LightsailClient,
} from '@aws-sdk/client-lightsail';
import { AwsEmulator } from '../../../local/emulator';
import { failure, lightsailClientFor } from './testing';

let emulator: AwsEmulator;
let client: LightsailClient;

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  client = lightsailClientFor(emulator);
});

afterAll(async () => {
  client.destroy();
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
  emulator.createBucket('ops-bucket');
});

async function keysOf(bucketName = 'ops-bucket'): Promise<string[]> {
  return ((await client.send(new GetBucketAccessKeysCommand({ bucketName }))).accessKeys ?? []).map((key) => key.accessKeyId!);
}

test('by default an operation has succeeded when it is answered, and GetOperation reports the same', async () => {
  const created = await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }));

  const [operation] = created.operations!;
  expect(operation).toEqual(expect.objectContaining({
    status: 'Succeeded', isTerminal: true, operationType: 'CreateBucketAccessKey', resourceName: 'ops-bucket',
    resourceType: 'Bucket', operationDetails: created.accessKey!.accessKeyId,
  }));
  const polled = await client.send(new GetOperationCommand({ operationId: operation.id }));
  expect(polled.operation).toEqual(expect.objectContaining({ id: operation.id, status: 'Succeeded', isTerminal: true }));
});

test('an operation queued to stay Started is Started for that many polls, then Succeeded', async () => {
  emulator.queueLightsailOperation({ operationType: 'CreateBucketAccessKey', startedPolls: 2 });
  const created = await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }));
  const id = created.operations![0].id;
  expect(created.operations![0]).toEqual(expect.objectContaining({ status: 'Started', isTerminal: false }));

  const statuses: Array<string | undefined> = [];
  for (let poll = 0; poll < 4; poll++) {
    statuses.push((await client.send(new GetOperationCommand({ operationId: id }))).operation?.status);
  }

  expect(statuses).toEqual(['Started', 'Started', 'Succeeded', 'Succeeded']);
  // The next create is not affected.
  expect((await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }))).operations![0].status).toBe('Succeeded');
});

test('a failed create takes its key away when the operation ends, with an error code and details', async () => {
  emulator.queueLightsailOperation({ operationType: 'CreateBucketAccessKey', fails: true });
  const created = await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }));
  expect(await keysOf()).toEqual([created.accessKey!.accessKeyId]);

  const polled = await client.send(new GetOperationCommand({ operationId: created.operations![0].id }));

  expect(polled.operation).toEqual(expect.objectContaining({
    status: 'Failed', isTerminal: true, errorCode: 'InternalError', errorDetails: 'The CreateBucketAccessKey operation failed.',
  }));
  expect(await keysOf()).toEqual([]);
});

test('a delete\'s key counts until its operation succeeds; a failed delete leaves the key', async () => {
  const key = (await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }))).accessKey!.accessKeyId!;
  emulator.queueLightsailOperation({ operationType: 'DeleteBucketAccessKey', startedPolls: 1 });
  const deleted = await client.send(new DeleteBucketAccessKeyCommand({ bucketName: 'ops-bucket', accessKeyId: key }));
  const id = deleted.operations![0].id;

  expect(await keysOf()).toEqual([key]);
  await client.send(new GetOperationCommand({ operationId: id }));
  expect(await keysOf()).toEqual([key]);
  expect((await client.send(new GetOperationCommand({ operationId: id }))).operation?.status).toBe('Succeeded');
  expect(await keysOf()).toEqual([]);

  const other = (await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }))).accessKey!.accessKeyId!;
  emulator.queueLightsailOperation({ operationType: 'DeleteBucketAccessKey', fails: true });
  const failing = await client.send(new DeleteBucketAccessKeyCommand({ bucketName: 'ops-bucket', accessKeyId: other }));
  expect((await client.send(new GetOperationCommand({ operationId: failing.operations![0].id }))).operation?.status).toBe('Failed');
  expect(await keysOf()).toEqual([other]);
});

test('outcomes apply to their operation type only, in order', async () => {
  emulator.queueLightsailOperation({ operationType: 'DeleteBucketAccessKey', fails: true });
  emulator.queueLightsailOperation({ operationType: 'CreateBucketAccessKey', startedPolls: 1 });
  emulator.queueLightsailOperation({ operationType: 'CreateBucketAccessKey', fails: true });

  const first = await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }));
  const second = await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }));

  const poll = async (id?: string) => (await client.send(new GetOperationCommand({ operationId: id }))).operation?.status;
  expect(await poll(first.operations![0].id)).toBe('Started');
  expect(await poll(first.operations![0].id)).toBe('Succeeded');
  expect(await poll(second.operations![0].id)).toBe('Failed');
});

test('an unknown operation is NotFoundException; a missing id is InvalidInputException', async () => {
  const unknown = await failure(client.send(new GetOperationCommand({ operationId: 'c0ffee00-0000-4000-8000-000000000000' })));
  expect(unknown.name).toBe('NotFoundException');
  expect(unknown.message).toBe('The operation c0ffee00-0000-4000-8000-000000000000 does not exist.');
  expect((await failure(client.send(new GetOperationCommand({ operationId: '' })))).name).toBe('InvalidInputException');
});

test('reset() forgets operations and queued outcomes; a bad outcome is refused', async () => {
  emulator.queueLightsailOperation({ operationType: 'CreateBucketAccessKey', fails: true });
  const id = (await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }))).operations![0].id;
  emulator.reset();
  emulator.createBucket('ops-bucket');

  expect((await failure(client.send(new GetOperationCommand({ operationId: id })))).name).toBe('NotFoundException');
  expect((await client.send(new CreateBucketAccessKeyCommand({ bucketName: 'ops-bucket' }))).operations![0].status).toBe('Succeeded');
  expect(() => emulator.queueLightsailOperation({ operationType: 'CreateBucketAccessKey', startedPolls: -1 }))
    .toThrow('OperationOutcome.startedPolls must be a non-negative integer, got -1');
  expect(() => emulator.queueLightsailOperation({ operationType: 'CreateBucketAccessKey', startedPolls: 1.5 })).toThrow();
});
