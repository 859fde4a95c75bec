/**
 * Lightsail's operations: a key counts as made, and a slot as freed, once each operation has finished.
 */
import { CreateBucketAccessKeyCommand, DeleteBucketAccessKeyCommand, GetOperationCommand, Operation } from '@aws-sdk/client-lightsail';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/on-event';
import { BUCKET, createEvent, deleteEvent } from './events';
import {
  NEW_KEY_ID, NEW_SECRET, OLD_KEY_ID, accessDenied, failureOf, givenBucket, givenSecretVersions, lambdaContext, lightsail, onFakeClock, refused,
  secretsManager, storedValue, useFakeClock,
} from './fixtures';

const OPERATION_ID = 'e5700e8a-daf2-4b49-bc01-3ea3a2a0f10a';

function operation(status: string, extra: Partial<Operation> = {}): Operation {
  return { id: OPERATION_ID, operationType: 'CreateBucketAccessKey', resourceName: BUCKET, status, ...extra } as Operation;
}

/** CreateBucketAccessKey answers an operation with `status`; GetOperation answers `polls` in turn. */
function givenCreateOperation(status: string, ...polls: Operation[]): void {
  lightsail.on(CreateBucketAccessKeyCommand).resolves({
    accessKey: { accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET },
    operations: [operation(status)],
  });
  let behaviour = lightsail.on(GetOperationCommand, { operationId: OPERATION_ID });
  for (const poll of polls) {
    behaviour = behaviour.resolvesOnce({ operation: poll });
  }
}

beforeEach(useFakeClock);

describe('CreateBucketAccessKey\'s operation', () => {
  test.each(['Succeeded', 'Completed'])('finished at once (%s): nothing to poll', async (status) => {
    givenBucket();
    givenCreateOperation(status);

    expect((await onFakeClock(handler(createEvent(), lambdaContext()))).PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(lightsail).not.toHaveReceivedCommand(GetOperationCommand);
  });

  test.each(['NotStarted', 'Started'])('%s: polled with GetOperation, 0.5, 1 and 2 s apart, until it succeeds; only then is the key stored', async (status) => {
    givenBucket();
    givenCreateOperation(status, operation('Started'), operation('Started'), operation('Succeeded'));
    const start = Date.now();
    const polledAt: number[] = [];
    lightsail.on(GetOperationCommand).callsFake(async () => {
      polledAt.push(Date.now() - start);
      return { operation: operation(polledAt.length < 3 ? 'Started' : 'Succeeded') };
    });

    expect((await onFakeClock(handler(createEvent(), lambdaContext()))).PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(polledAt).toEqual([500, 1_500, 3_500]);
    expect(lightsail).toHaveReceivedCommandWith(GetOperationCommand, { operationId: OPERATION_ID });
    expect(lightsail.commandCalls(GetOperationCommand)[2].calledBefore(secretsManager.commandCalls(PutSecretValueCommand)[0])).toBe(true);
  });

  test('polls at most 5 s apart', async () => {
    givenBucket();
    const start = Date.now();
    const polledAt: number[] = [];
    givenCreateOperation('Started');
    lightsail.on(GetOperationCommand).callsFake(async () => {
      polledAt.push(Date.now() - start);
      return { operation: operation(polledAt.length < 6 ? 'Started' : 'Succeeded') };
    });

    await onFakeClock(handler(createEvent(), lambdaContext()));

    expect(polledAt).toEqual([500, 1_500, 3_500, 7_500, 12_500, 17_500]);
  });

  test('a failed operation: the key is deleted again, and the error names the operation and its cause', async () => {
    givenBucket();
    givenCreateOperation('Started', operation('Failed', { errorCode: 'InternalError', errorDetails: 'the key could not be made' }));

    const message = await failureOf(onFakeClock(handler(createEvent(), lambdaContext())));

    expect(message).toBe(`Could not create an access key for Lightsail bucket "${BUCKET}": Lightsail operation ${OPERATION_ID} ` +
      `(CreateBucketAccessKey on ${BUCKET}) failed (InternalError: the key could not be made); the key ${NEW_KEY_ID} was deleted again`);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: NEW_KEY_ID });
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test.each([
    ['fails without details', operation('Failed'), 'failed; the key'],
    ['ends in a state Lightsail does not define', { ...operation('Started'), status: 'Paused' } as unknown as Operation, 'ended Paused; the key'],
    ['ends without a status', {}, 'ended without a status; the key'],
  ])('an operation that %s', async (_name, last, expected) => {
    givenBucket();
    givenCreateOperation('Started', last);

    expect(await failureOf(onFakeClock(handler(createEvent(), lambdaContext())))).toContain(
      `Lightsail operation ${OPERATION_ID} (CreateBucketAccessKey on ${BUCKET}) ${expected}`);
  });

  test('an operation that does not finish in the event\'s time: the key is deleted again in the reserve', async () => {
    givenBucket();
    givenCreateOperation('Started');
    lightsail.on(GetOperationCommand).resolves({ operation: operation('Started') });
    const context = lambdaContext(10_000);

    const message = await failureOf(onFakeClock(handler(createEvent(), context)));

    expect(message).toContain(`Lightsail operation ${OPERATION_ID} (CreateBucketAccessKey on ${BUCKET}) was still Started when the event's time ran out`);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { accessKeyId: NEW_KEY_ID });
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  test('an unfinished operation without an id cannot be followed', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).resolves({
      accessKey: { accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET }, operations: [{ status: 'Started' }],
    });

    expect(await failureOf(onFakeClock(handler(createEvent(), lambdaContext())))).toContain(
      'Lightsail operation (without an id) (unknown type on an unnamed resource) was still Started and cannot be followed');
    expect(lightsail).not.toHaveReceivedCommand(GetOperationCommand);
  });

  test('GetOperation fails: the error names the operation and the cause', async () => {
    givenBucket();
    givenCreateOperation('Started');
    lightsail.on(GetOperationCommand).rejects(refused('no GetOperation'));

    expect(await failureOf(onFakeClock(handler(createEvent(), lambdaContext())))).toContain(
      `Could not follow Lightsail operation ${OPERATION_ID} (CreateBucketAccessKey on ${BUCKET}): OperationFailureException: no GetOperation`);
  });

  test('an answer without an operation counts as one without a status', async () => {
    givenBucket();
    givenCreateOperation('Started');
    lightsail.on(GetOperationCommand).resolves({});

    expect(await failureOf(onFakeClock(handler(createEvent(), lambdaContext())))).toContain('ended without a status;');
  });
});

describe('following an operation', () => {
  test('GetOperation is sent with the signal that aborts it at the deadline', async () => {
    givenBucket();
    givenCreateOperation('Started', operation('Succeeded'));

    await onFakeClock(handler(createEvent(), lambdaContext()));

    expect((lightsail.commandCalls(GetOperationCommand)[0].args as unknown[])[1]).toEqual({ abortSignal: expect.any(AbortSignal) });
  });

  test('a wait that exactly fits the time left is still waited', async () => {
    // 10.5 s: ordinary calls end at 7.5 s; the polls at 0.5, 1.5 and 3.5 s leave exactly 4 s for the fourth wait.
    givenBucket();
    givenCreateOperation('Started');
    lightsail.on(GetOperationCommand).resolves({ operation: operation('Started') });

    await failureOf(onFakeClock(handler(createEvent(), lambdaContext(10_500))));

    expect(lightsail).toHaveReceivedCommandTimes(GetOperationCommand, 4);
  });

  test('a GetOperation that stays denied names the call, the operation and the permission', async () => {
    givenBucket();
    givenCreateOperation('Started');
    lightsail.on(GetOperationCommand).rejects(accessDenied());

    const message = await failureOf(onFakeClock(handler(createEvent(), lambdaContext(10_000))));

    expect(message).toContain(`Could not follow Lightsail operation ${OPERATION_ID} (CreateBucketAccessKey on ${BUCKET}): AccessDeniedException: ` +
      `GetOperation on Lightsail operation ${OPERATION_ID} was denied`);
    expect(message).toContain(`The handler's role needs lightsail:GetOperation on Lightsail operation ${OPERATION_ID}`);
  });
});

describe('DeleteBucketAccessKey\'s operation', () => {
  test('the key counts as deleted once its operation succeeded', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID));
    lightsail.on(DeleteBucketAccessKeyCommand).resolves({ operations: [operation('Started', { operationType: 'DeleteBucketAccessKey' })] });
    lightsail.on(GetOperationCommand).resolves({ operation: operation('Succeeded') });

    expect(await onFakeClock(handler(deleteEvent(OLD_KEY_ID), lambdaContext()))).toEqual({ PhysicalResourceId: OLD_KEY_ID });
    expect(lightsail).toHaveReceivedCommandTimes(GetOperationCommand, 1);
  });

  test('a failed operation fails the Delete, naming the key and the operation', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID));
    lightsail.on(DeleteBucketAccessKeyCommand).resolves({ operations: [operation('Failed', { operationType: 'DeleteBucketAccessKey' })] });

    expect(await failureOf(onFakeClock(handler(deleteEvent(OLD_KEY_ID), lambdaContext())))).toBe(
      `Could not delete access key ${OLD_KEY_ID} of Lightsail bucket "${BUCKET}": Lightsail operation ${OPERATION_ID} (DeleteBucketAccessKey on ${BUCKET}) failed`);
  });

  test('an operation that is not found is a failure, never a key already gone', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID));
    lightsail.on(DeleteBucketAccessKeyCommand).resolves({ operations: [operation('Started', { operationType: 'DeleteBucketAccessKey' })] });
    lightsail.on(GetOperationCommand).rejects(Object.assign(new Error('DoesNotExist: no such operation'), { name: 'NotFoundException' }));

    expect(await failureOf(onFakeClock(handler(deleteEvent(OLD_KEY_ID), lambdaContext())))).toBe(
      `Could not delete access key ${OLD_KEY_ID} of Lightsail bucket "${BUCKET}": Could not follow Lightsail operation ${OPERATION_ID} ` +
      `(DeleteBucketAccessKey on ${BUCKET}): NotFoundException: DoesNotExist: no such operation`);
  });
});
