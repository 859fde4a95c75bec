import {
  CreateBucketAccessKeyCommand,
  DeleteBucketAccessKeyCommand,
  GetBucketAccessKeysCommand,
  GetBucketsCommand,
} from '@aws-sdk/client-lightsail';
import { GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/on-event';
import { BUCKET, SECRET_ARN, createEvent, deleteEvent } from './events';
import {
  CREATE_REQUEST_ID, NEW_KEY_ID, NEW_SECRET, OLD_KEY_ID, output,
  accessDenied, failureOf, givenBucket, givenSecretVersions, lambdaContext, lightsail, onFakeClock, refused,
  secretNotFound, secretsManager, serverError, storedValue, throttled, useFakeClock,
} from './fixtures';

/** 3.4 s left: the reserve is 3 s, so throttling is retried for 0.4 s. */
const THROTTLING_ENDS_SOON = 3_400;
/** 4 s left: the IAM window ends with the throttling retries, after 1 s. */
const IAM_WINDOW_ENDS_SOON = 4_000;

function unauthenticated(): Error {
  return Object.assign(new Error('Request is not authenticated'), { name: 'UnauthenticatedException' });
}

/** Lets the handler run until it waits on a pending answer. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) {
    await new Promise((wake) => setImmediate(wake));
  }
}

describe('throttling', () => {
  beforeEach(useFakeClock);

  test('every call is retried while throttled, until it succeeds', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejectsOnce(throttled()).rejects(secretNotFound());
    lightsail.on(GetBucketsCommand).rejectsOnce(throttled()).rejectsOnce(throttled())
      .resolves({ buckets: [{ name: BUCKET }] });
    lightsail.on(GetBucketAccessKeysCommand).rejectsOnce(throttled()).resolves({ accessKeys: [] });
    lightsail.on(CreateBucketAccessKeyCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).rejectsOnce(throttled())
      .resolves({ accessKey: { accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET } });
    secretsManager.on(PutSecretValueCommand).rejectsOnce(throttled()).resolves({});

    const result = await onFakeClock(handler(createEvent(), lambdaContext(60_000)));

    expect(result.PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(lightsail).toHaveReceivedCommandTimes(CreateBucketAccessKeyCommand, 4);
    expect(secretsManager).toHaveReceivedCommandTimes(PutSecretValueCommand, 2);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('when Lightsail keeps throttling the create, fails saying so, and nothing was made', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejects(throttled());
    const context = lambdaContext(THROTTLING_ENDS_SOON);

    const message = await failureOf(onFakeClock(handler(createEvent(), context)));

    const attempts = lightsail.commandCalls(CreateBucketAccessKeyCommand).length;
    expect(attempts).toBeGreaterThan(1);
    expect(message).toMatch(new RegExp(
      `^Could not create an access key for Lightsail bucket "${BUCKET}": ThrottlingException: Lightsail kept throttling ` +
      `CreateBucketAccessKey on Lightsail bucket "${BUCKET}" for 0\\.\\d s \\(${attempts} attempts; `));
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(2_500);
    // Every attempt was refused before acting: no key can have appeared, so none is looked for.
    expect(lightsail).toHaveReceivedCommandTimes(GetBucketAccessKeysCommand, 1);
    expect(message).not.toContain('appeared');
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('when Secrets Manager keeps throttling the store, the new key is deleted in the time kept back for it', async () => {
    givenBucket();
    secretsManager.on(PutSecretValueCommand).rejects(throttled());
    // Lightsail throttles the clean-up too: it is retried into the reserve.
    lightsail.on(DeleteBucketAccessKeyCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    const context = lambdaContext(THROTTLING_ENDS_SOON);

    const message = await failureOf(onFakeClock(handler(createEvent(), context)));

    const attempts = secretsManager.commandCalls(PutSecretValueCommand).length;
    expect(attempts).toBeGreaterThan(1);
    expect(message).toMatch(new RegExp(
      `^Could not store access key ${NEW_KEY_ID} in secret ${SECRET_ARN}: ThrottlingException: Secrets Manager kept throttling ` +
      `PutSecretValue on secret ${SECRET_ARN} for 0\\.\\d s \\(${attempts} attempts; `));
    expect(message).toContain(`The new key ${NEW_KEY_ID} was deleted again`);
    expect(lightsail).toHaveReceivedCommandTimes(DeleteBucketAccessKeyCommand, 3);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: NEW_KEY_ID });
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });
});

describe('CreateBucketAccessKey', () => {
  beforeEach(useFakeClock);

  test.each([
    ['a 5xx', serverError],
    ['a timeout', () => Object.assign(new Error('Request timed out'), { name: 'TimeoutError' })],
  ])('is never repeated after %s: its key may exist', async (_name, error) => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejects(error());

    await failureOf(onFakeClock(handler(createEvent(), lambdaContext(60_000))));

    expect(lightsail).toHaveReceivedCommandTimes(CreateBucketAccessKeyCommand, 1);
  });

  test('is repeated after access denied: a denied call made nothing', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejectsOnce(accessDenied()).rejectsOnce(unauthenticated())
      .resolves({ accessKey: { accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET } });

    const result = await onFakeClock(handler(createEvent(), lambdaContext(60_000)));

    expect(result.PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(lightsail).toHaveReceivedCommandTimes(CreateBucketAccessKeyCommand, 3);
    expect(secretsManager).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
  });
});

describe('IAM propagation', () => {
  beforeEach(useFakeClock);

  test('a denial that lifts within the window ends in success, with one key', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejectsOnce(accessDenied()).rejectsOnce(accessDenied()).rejects(secretNotFound());
    lightsail.on(GetBucketAccessKeysCommand).rejectsOnce(unauthenticated()).resolves({ accessKeys: [] });
    lightsail.on(CreateBucketAccessKeyCommand).rejectsOnce(accessDenied())
      .resolves({ accessKey: { accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET } });
    secretsManager.on(PutSecretValueCommand).rejectsOnce(accessDenied()).resolves({});

    const result = await onFakeClock(handler(createEvent(), lambdaContext(60_000)));

    expect(result.PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(lightsail).toHaveReceivedCommandTimes(CreateBucketAccessKeyCommand, 2);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('a denial that never lifts fails after the window, naming the call, the bucket and the permission', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejects(accessDenied());
    const context = lambdaContext(IAM_WINDOW_ENDS_SOON);

    const message = await failureOf(onFakeClock(handler(createEvent(), context)));

    expect(lightsail.commandCalls(CreateBucketAccessKeyCommand).length).toBeGreaterThan(1);
    expect(message).toMatch(new RegExp(
      `^Could not create an access key for Lightsail bucket "${BUCKET}": AccessDeniedException: CreateBucketAccessKey on ` +
      `Lightsail bucket "${BUCKET}" was denied for 1\\.\\d s \\(\\d+ attempts; last answer: AccessDeniedException: User is not authorized\\)`));
    expect(message).toContain(`The handler's role needs lightsail:CreateBucketAccessKey on Lightsail bucket "${BUCKET}"`);
    expect(message).toContain('IAM may still have been propagating');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(2_500);
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('a secret that stays denied is named with its permission, and the new key is deleted again', async () => {
    givenBucket();
    secretsManager.on(PutSecretValueCommand).rejects(accessDenied());

    const message = await failureOf(onFakeClock(handler(createEvent(), lambdaContext(IAM_WINDOW_ENDS_SOON))));

    expect(message).toContain(`The handler's role needs secretsmanager:PutSecretValue on secret ${SECRET_ARN}`);
    expect(message).toContain(`The new key ${NEW_KEY_ID} was deleted again`);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { accessKeyId: NEW_KEY_ID });
  });

  test('a Delete that stays denied names the call and the bucket', async () => {
    givenBucket();
    lightsail.on(DeleteBucketAccessKeyCommand).rejects(accessDenied());

    const message = await failureOf(onFakeClock(handler(deleteEvent(OLD_KEY_ID), lambdaContext(IAM_WINDOW_ENDS_SOON))));

    expect(message).toContain(`Could not delete access key ${OLD_KEY_ID} of Lightsail bucket "${BUCKET}": AccessDeniedException`);
    expect(message).toContain(`needs lightsail:DeleteBucketAccessKey on Lightsail bucket "${BUCKET}"`);
  });
});

describe('round trips', () => {
  test('Create reads the secret and the bucket in one round, then creates', async () => {
    givenBucket();
    let answerSecretRead = () => undefined as void;
    secretsManager.on(GetSecretValueCommand, { VersionId: CREATE_REQUEST_ID })
      .callsFake(() => new Promise((_answer, fail) => {
        answerSecretRead = () => fail(secretNotFound());
      }));

    const result = handler(createEvent(), lambdaContext());
    await settle();

    expect(lightsail).toHaveReceivedCommandTimes(GetBucketsCommand, 1);
    expect(lightsail).toHaveReceivedCommandTimes(GetBucketAccessKeysCommand, 1);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
    answerSecretRead();
    expect((await result).PhysicalResourceId).toBe(NEW_KEY_ID);
  });

  test('a repeated Create checks that the stored key still exists: a bucket that cannot be read fails it, and nothing is made', async () => {
    givenBucket([NEW_KEY_ID]);
    lightsail.on(GetBucketsCommand).rejects(refused('bucket unreadable'));
    secretsManager.on(GetSecretValueCommand, { VersionId: CREATE_REQUEST_ID })
      .resolves({ VersionId: CREATE_REQUEST_ID, SecretString: storedValue(NEW_KEY_ID) });

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(
      `Could not read Lightsail bucket "${BUCKET}": OperationFailureException: bucket unreadable`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('a repeated Create whose stored key no longer exists fails naming the key, and makes no other', async () => {
    givenBucket([OLD_KEY_ID]);
    secretsManager.on(GetSecretValueCommand, { VersionId: CREATE_REQUEST_ID })
      .resolves({ VersionId: CREATE_REQUEST_ID, SecretString: storedValue(NEW_KEY_ID) });

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(
      `Version ${CREATE_REQUEST_ID} of secret ${SECRET_ARN} holds access key ${NEW_KEY_ID}, which no longer exists on Lightsail bucket ` +
      `"${BUCKET}" (deleted outside this stack?). This request cannot store another key under the same token: deploy again, which sends a new request`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('Delete reads the secret and the bucket\'s keys in one round, then deletes', async () => {
    givenBucket([OLD_KEY_ID, NEW_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID));
    const answers: Array<() => void> = [];
    const current = { VersionId: 'v-current', SecretString: storedValue(NEW_KEY_ID) };
    secretsManager.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' })
      .callsFake(() => new Promise((answer) => answers.push(() => answer(current))));

    const result = handler(deleteEvent(NEW_KEY_ID), lambdaContext());
    await settle();

    expect(lightsail).toHaveReceivedCommandTimes(GetBucketAccessKeysCommand, 1);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
    answers.forEach((answer) => answer());
    await result;
    // A rolled-back replacement: the previous key, found in that one read, becomes current again.
    expect(secretsManager).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 1);
    expect(lightsail).toHaveReceivedCommandTimes(GetBucketAccessKeysCommand, 1);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { accessKeyId: NEW_KEY_ID });
  });
});

/**
 * With 3 s left the whole event is the reserve: an ordinary throttled call fails at its first
 * answer, while a clean-up (deleting a key nobody holds, putting the secret back) retries into the
 * reserve. A fake clock, and Math.random at 0.5, make each wait 100, 200, 400... ms.
 */
describe('clean-up in the reserve, on a fake clock', () => {
  const ONLY_THE_RESERVE = 3_000;

  beforeEach(useFakeClock);

  /** Runs the handler to its end on the fake clock; its failure reason, or undefined. */
  async function outcomeOf(promise: Promise<unknown>): Promise<string | undefined> {
    return onFakeClock(promise).then(() => undefined, (error: Error) => error.message);
  }

  /** Answers throttling `times` times, then `answer`. */
  function throttledThen<T>(times: number, answer: () => T): () => Promise<T> {
    let calls = 0;
    return async () => {
      calls++;
      if (calls <= times) {
        throw throttled();
      }
      return answer();
    };
  }

  function retryLines(): unknown[] {
    return output.map((line) => JSON.parse(line) as { step: string }).filter((line) => line.step.endsWith('-retrying'));
  }

  test('an ordinary call gets no retry: a throttled Delete fails at its first answer', async () => {
    givenBucket();
    givenSecretVersions(storedValue(OLD_KEY_ID));
    lightsail.on(DeleteBucketAccessKeyCommand).rejects(throttled());

    const message = await outcomeOf(handler(deleteEvent(OLD_KEY_ID), lambdaContext(ONLY_THE_RESERVE)));

    expect(message).toMatch(new RegExp(`^Could not delete access key ${OLD_KEY_ID} of Lightsail bucket "${BUCKET}": ` +
      `ThrottlingException: Lightsail kept throttling DeleteBucketAccessKey on Lightsail bucket "${BUCKET}" for 0\\.0 s \\(1 attempt;`));
    expect(retryLines()).toEqual([]);
  });

  test('an ordinary call gets no retry: the Delete of a rolled-back replacement fails when the bucket\'s keys stay throttled', async () => {
    givenBucket();
    givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID));
    lightsail.on(GetBucketAccessKeysCommand).rejects(throttled());

    const message = await outcomeOf(handler(deleteEvent(NEW_KEY_ID), lambdaContext(ONLY_THE_RESERVE)));

    expect(message).toMatch(new RegExp(`^Could not list the access keys of Lightsail bucket "${BUCKET}": ` +
      'ThrottlingException: Lightsail kept throttling GetBucketAccessKeys .* for 0\\.0 s \\(1 attempt;'));
    expect(lightsail).toHaveReceivedCommandTimes(GetBucketAccessKeysCommand, 1);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('a key that came back without its secret is deleted even when Lightsail throttles the deletion', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).resolves({ accessKey: { accessKeyId: NEW_KEY_ID } });
    lightsail.on(DeleteBucketAccessKeyCommand).callsFake(throttledThen(2, () => ({})));

    const message = await outcomeOf(handler(createEvent(), lambdaContext(ONLY_THE_RESERVE)));

    expect(message).toBe(`Lightsail returned access key ${NEW_KEY_ID} for bucket "${BUCKET}" without its secret access key; the key was deleted again`);
    expect(lightsail).toHaveReceivedCommandTimes(DeleteBucketAccessKeyCommand, 3);
    expect(retryLines()).toEqual([
      { step: 'throttled-retrying', action: 'lightsail:DeleteBucketAccessKey', error: 'ThrottlingException', attempt: '1', waitMs: '100' },
      { step: 'throttled-retrying', action: 'lightsail:DeleteBucketAccessKey', error: 'ThrottlingException', attempt: '2', waitMs: '200' },
    ]);
  });

  test('after a failed create, the check for a key that appeared retries throttling', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejects(serverError());
    let listed = 0;
    lightsail.on(GetBucketAccessKeysCommand).callsFake(async () => {
      listed++;
      if (listed === 2) {
        throw throttled();
      }
      return { accessKeys: listed === 1 ? [] : [{ accessKeyId: NEW_KEY_ID }] };
    });

    const message = await outcomeOf(handler(createEvent(), lambdaContext(ONLY_THE_RESERVE)));

    expect(message).toBe(`Could not create an access key for Lightsail bucket "${BUCKET}": ServiceException: Internal failure. Key ${NEW_KEY_ID} appeared on the bucket ` +
      'during the failed call: it may belong to another resource created at the same time, or have been made by this call with a ' +
      'secret nobody received. If no secret of yours holds it, delete it with: ' +
      `aws lightsail delete-bucket-access-key --bucket-name ${BUCKET} --access-key-id ${NEW_KEY_ID}`);
    expect(listed).toBe(3);
  });

  test('after a store that failed, the version it tried to write is read and the key deleted, each retried through throttling', async () => {
    givenBucket([OLD_KEY_ID]);
    secretsManager.on(PutSecretValueCommand).rejects(throttled());
    lightsail.on(DeleteBucketAccessKeyCommand).callsFake(throttledThen(1, () => ({})));
    let tokenReads = 0;
    secretsManager.on(GetSecretValueCommand, { VersionId: CREATE_REQUEST_ID }).callsFake(async () => {
      tokenReads++;
      if (tokenReads === 2) {
        throw throttled();
      }
      throw secretNotFound();
    });

    const message = await outcomeOf(handler(createEvent(), lambdaContext(ONLY_THE_RESERVE)));

    expect(message).toMatch(new RegExp(`^Could not store access key ${NEW_KEY_ID} in secret ${SECRET_ARN}: ThrottlingException: .* for 0\\.0 s \\(1 attempt;`));
    expect(message).toMatch(new RegExp(`\\. The new key ${NEW_KEY_ID} was deleted again; nothing else changed\\.$`));
    expect(tokenReads).toBe(3);
    expect(lightsail).toHaveReceivedCommandTimes(DeleteBucketAccessKeyCommand, 2);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(output.map((line) => JSON.parse(line) as { step: string }).filter((line) => !line.step.endsWith('-retrying'))).toEqual([
      { step: 'key-created', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
      { step: 'key-deleted-after-store-failure', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
    ]);
  });
});

describe('what a call refused at once is called, on a fake clock', () => {
  const ONLY_THE_RESERVE = 3_000;
  const THROTTLED_AT_ONCE = 'for 0.0 s (1 attempt; last answer: ThrottlingException: Rate exceeded); ' +
    "the rest of the function's time was kept to report the failure and clean up";

  beforeEach(useFakeClock);

  async function reasonOf(promise: Promise<unknown>): Promise<string> {
    return failureOf(onFakeClock(promise));
  }

  test('a throttled create: its reason, and no notice about other keys', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejects(throttled());

    expect(await reasonOf(handler(createEvent(), lambdaContext(ONLY_THE_RESERVE)))).toBe(
      `Could not create an access key for Lightsail bucket "${BUCKET}": ThrottlingException: Lightsail kept throttling ` +
      `CreateBucketAccessKey on Lightsail bucket "${BUCKET}" ${THROTTLED_AT_ONCE}`);
  });

  test('a denied read of the bucket: its call, its bucket and the permission', async () => {
    givenBucket();
    lightsail.on(GetBucketsCommand).rejects(accessDenied());

    expect(await reasonOf(handler(createEvent(), lambdaContext(ONLY_THE_RESERVE)))).toBe(
      `Could not read Lightsail bucket "${BUCKET}": AccessDeniedException: GetBuckets on Lightsail bucket "${BUCKET}" was denied ` +
      'for 0.0 s (1 attempt; last answer: AccessDeniedException: User is not authorized). ' +
      `The handler's role needs lightsail:GetBuckets on Lightsail bucket "${BUCKET}"; IAM may still have been propagating ` +
      "a policy change made by this deployment: retry the deployment, and if it fails again check the role's policy");
  });

  test('a throttled read of the bucket\'s keys before a create is an ordinary call', async () => {
    givenBucket();
    lightsail.on(GetBucketAccessKeysCommand).rejects(throttled());

    expect(await reasonOf(handler(createEvent(), lambdaContext(ONLY_THE_RESERVE)))).toBe(
      `Could not read Lightsail bucket "${BUCKET}": ThrottlingException: Lightsail kept throttling ` +
      `GetBucketAccessKeys on Lightsail bucket "${BUCKET}" ${THROTTLED_AT_ONCE}`);
    expect(lightsail).toHaveReceivedCommandTimes(GetBucketAccessKeysCommand, 1);
  });

  test('a throttled read of the secret: the version, the call and the secret', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejects(throttled());

    expect(await reasonOf(handler(createEvent(), lambdaContext(ONLY_THE_RESERVE)))).toBe(
      `Could not read version ${CREATE_REQUEST_ID} of secret ${SECRET_ARN}: ThrottlingException: Secrets Manager kept throttling ` +
      `GetSecretValue on secret ${SECRET_ARN} ${THROTTLED_AT_ONCE}`);
  });
});

describe('calls that never answer, on a fake clock', () => {
  beforeEach(useFakeClock);

  test('a store that hangs is abandoned at the deadline, and the new key is deleted before the function\'s end', async () => {
    givenBucket();
    secretsManager.on(PutSecretValueCommand).callsFake(() => new Promise(() => undefined));
    const context = lambdaContext(10_000);

    const message = await failureOf(onFakeClock(handler(createEvent(), context)));

    expect(message).toBe(`Could not store access key ${NEW_KEY_ID} in secret ${SECRET_ARN}: DeadlineExceeded: Secrets Manager did not answer ` +
      `PutSecretValue on secret ${SECRET_ARN} within the event's time (7.0 s, the SDK's own retries included); the rest of the function's ` +
      `time was kept to report the failure and clean up. The new key ${NEW_KEY_ID} was deleted again; nothing else changed.`);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: NEW_KEY_ID });
    expect(context.getRemainingTimeInMillis()).toBe(3_000);
  });

  test('a clean-up that hangs too ends half a second before the function does, naming the key to delete by hand', async () => {
    givenBucket();
    secretsManager.on(PutSecretValueCommand).callsFake(() => new Promise(() => undefined));
    lightsail.on(DeleteBucketAccessKeyCommand).callsFake(() => new Promise(() => undefined));
    const context = lambdaContext(10_000);

    const message = await failureOf(onFakeClock(handler(createEvent(), context)));

    expect(message).toContain('Deleting the new key also failed');
    expect(message).toContain(`aws lightsail delete-bucket-access-key --bucket-name ${BUCKET} --access-key-id ${NEW_KEY_ID}`);
    expect(context.getRemainingTimeInMillis()).toBe(500);
  });

  test('a create that hangs is abandoned, and any key that appeared meanwhile is named', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).callsFake(() => new Promise(() => undefined));
    lightsail.on(GetBucketAccessKeysCommand, { bucketName: BUCKET })
      .resolvesOnce({ accessKeys: [] })
      .resolves({ accessKeys: [{ accessKeyId: NEW_KEY_ID }] });

    const message = await failureOf(onFakeClock(handler(createEvent(), lambdaContext(10_000))));

    expect(message).toMatch(/^Could not create an access key for Lightsail bucket "my-bucket": DeadlineExceeded: Lightsail did not answer CreateBucketAccessKey/);
    expect(message).toContain(`Key ${NEW_KEY_ID} appeared on the bucket during the failed call`);
  });
});

describe('every SDK call gets the signal that aborts it at the deadline', () => {
  /** Every call the mocks saw, with the options it was sent with. */
  function sentOptions(): unknown[] {
    return [...lightsail.calls(), ...secretsManager.calls()].map((call) => (call.args as unknown[])[1]);
  }

  test('Create and Delete: GetBuckets, GetBucketAccessKeys, CreateBucketAccessKey, DeleteBucketAccessKey, GetSecretValue, PutSecretValue, UpdateSecretVersionStage', async () => {
    givenBucket([OLD_KEY_ID]);
    await handler(createEvent(), lambdaContext());
    givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID));
    await handler(deleteEvent(NEW_KEY_ID), lambdaContext());

    const names = new Set([...lightsail.calls(), ...secretsManager.calls()].map((call) => (call.args[0] as object).constructor.name));
    expect([...names].sort()).toEqual(['CreateBucketAccessKeyCommand', 'DeleteBucketAccessKeyCommand', 'GetBucketAccessKeysCommand',
      'GetBucketsCommand', 'GetSecretValueCommand', 'PutSecretValueCommand', 'UpdateSecretVersionStageCommand']);
    for (const options of sentOptions()) {
      expect(options).toEqual({ abortSignal: expect.any(AbortSignal) });
    }
  });
});
