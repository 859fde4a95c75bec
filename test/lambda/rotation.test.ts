import {
  CreateBucketAccessKeyCommand,
  DeleteBucketAccessKeyCommand,
  GetBucketsCommand,
} from '@aws-sdk/client-lightsail';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { RotationEvent, handler } from '../../lambda/rotation';
import { BUCKET, SECRET_ARN } from './events';
import {
  BUCKET_URL, FOREIGN_KEY_ID, NEW_KEY_ID, NEW_SECRET, OLD_KEY_ID,
  accessDenied, failureOf, givenBucket, lambdaContext, lightsail, onFakeClock, output, refused, useFakeClock, secretNotFound, secretsManager, secretsManagerError, storedValue, throttled,
} from './fixtures';

const s3 = mockClient(S3Client);
const TOKEN = 'b0a7e5c1-0000-4000-8000-00000000r0t8';
const CURRENT_VERSION = 'v-current';
const CURRENT_KEY_ID = 'AKIACURRENT000000001';

function rotationEvent(step: RotationEvent['Step']): RotationEvent {
  return { SecretId: SECRET_ARN, ClientRequestToken: TOKEN, Step: step };
}

/** The secret as Secrets Manager leaves it when it invokes a step. */
function givenRotation(options: { tokenStages?: string[]; rotationEnabled?: boolean; previous?: string; pendingValue?: string } = {}): void {
  s3.reset();
  secretsManager.on(DescribeSecretCommand).resolves({
    RotationEnabled: options.rotationEnabled ?? true,
    VersionIdsToStages: {
      [CURRENT_VERSION]: ['AWSCURRENT'],
      ...(options.tokenStages === undefined ? { [TOKEN]: ['AWSPENDING'] } : options.tokenStages.length ? { [TOKEN]: options.tokenStages } : {}),
      ...(options.previous ? { 'v-previous': ['AWSPREVIOUS'] } : {}),
    },
  });
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' })
    .resolves({ VersionId: CURRENT_VERSION, SecretString: storedValue(CURRENT_KEY_ID, BUCKET, '1') });
  if (options.previous) {
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSPREVIOUS' })
      .resolves({ VersionId: 'v-previous', SecretString: options.previous });
  }
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: TOKEN }).callsFake(async () => {
    if (options.pendingValue === undefined) {
      throw secretNotFound();
    }
    return { VersionId: TOKEN, SecretString: options.pendingValue };
  });
  secretsManager.on(UpdateSecretVersionStageCommand).resolves({});
}

describe('every step', () => {
  test.each([
    [{ rotationEnabled: false }, 'is not enabled for rotation'],
    [{ tokenStages: [] }, 'has no stage for rotation'],
    [{ tokenStages: ['AWSPREVIOUS'] }, 'is not AWSPENDING'],
  ])('refuses a secret or version not set up for rotation: %j', async (options, expected) => {
    givenBucket();
    givenRotation(options);
    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext()))).toContain(expected);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test.each(['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)(
    '%s does nothing for a version that is already current', async (step) => {
      for (const tokenStages of [['AWSCURRENT'], ['AWSCURRENT', 'AWSPENDING']]) {
        givenBucket();
        givenRotation({ tokenStages });
        await handler(rotationEvent(step), lambdaContext());
        expect(lightsail.calls()).toHaveLength(0);
        expect(s3.calls()).toHaveLength(0);
        expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
        expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
      }
    });
});

describe('createSecret', () => {
  test('creates a key of the current key\'s bucket and stores it as AWSPENDING under the token', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();

    await handler(rotationEvent('createSecret'), lambdaContext());

    const put = secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input;
    expect(put).toEqual(expect.objectContaining({ SecretId: SECRET_ARN, ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'] }));
    expect(JSON.parse(put.SecretString!)).toEqual({
      accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET, bucketName: BUCKET, region: 'us-east-1', bucketUrl: BUCKET_URL, serial: '1',
    });
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('is idempotent on the token: a stored pending key is not made twice', async () => {
    givenBucket([CURRENT_KEY_ID, NEW_KEY_ID]);
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });

    await handler(rotationEvent('createSecret'), lambdaContext());

    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('in a full bucket, deletes the key AWSPREVIOUS holds first', async () => {
    givenBucket([CURRENT_KEY_ID, OLD_KEY_ID]);
    givenRotation({ previous: storedValue(OLD_KEY_ID, BUCKET, '1') });

    await handler(rotationEvent('createSecret'), lambdaContext());

    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: OLD_KEY_ID });
    expect(lightsail.commandCalls(DeleteBucketAccessKeyCommand)[0].calledBefore(lightsail.commandCalls(CreateBucketAccessKeyCommand)[0])).toBe(true);
  });

  test('never deletes a key the secret does not hold: a bucket full with someone else\'s key fails', async () => {
    givenBucket([CURRENT_KEY_ID, FOREIGN_KEY_ID]);
    givenRotation({ previous: storedValue(OLD_KEY_ID, BUCKET, '1') });

    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext()))).toContain('Lightsail allows 2 keys per bucket');
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('deletes the new key when it cannot be stored', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();
    secretsManager.on(PutSecretValueCommand).rejects(refused('no PutSecretValue'));

    const message = await failureOf(handler(rotationEvent('createSecret'), lambdaContext()));

    expect(message).toContain(`The new key ${NEW_KEY_ID} was deleted again`);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { accessKeyId: NEW_KEY_ID });
  });

  test('says how to delete the new key when deleting it fails too', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();
    secretsManager.on(PutSecretValueCommand).rejects(refused('no PutSecretValue'));
    lightsail.on(DeleteBucketAccessKeyCommand).rejects(refused('no DeleteBucketAccessKey'));

    const message = await failureOf(handler(rotationEvent('createSecret'), lambdaContext()));

    expect(message).toContain(`aws lightsail delete-bucket-access-key --bucket-name ${BUCKET} --access-key-id ${NEW_KEY_ID}`);
  });

  test('fails when the current value is not a stored key (edited by hand)', async () => {
    givenBucket();
    givenRotation();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' })
      .resolves({ VersionId: CURRENT_VERSION, SecretString: 'not json' });

    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext())))
      .toBe(`version AWSCURRENT of secret ${SECRET_ARN} does not hold a Lightsail bucket access key`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('fails when the secret has no current key to rotate', async () => {
    givenBucket();
    givenRotation();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' }).rejects(secretNotFound());

    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext()))).toContain('has no current access key to rotate');
  });
});

describe('setSecret', () => {
  test('has nothing to do', async () => {
    givenBucket();
    givenRotation();
    await handler(rotationEvent('setSecret'), lambdaContext());
    expect(lightsail.calls()).toHaveLength(0);
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });
});

describe('testSecret', () => {
  afterEach(() => jest.useRealTimers());

  test('lists the bucket with the pending key itself', async () => {
    givenBucket();
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0 });

    await handler(rotationEvent('testSecret'), lambdaContext());

    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: BUCKET, MaxKeys: 1 });
    const credentials = await s3.commandCalls(ListObjectsV2Command)[0].thisValue.config.credentials();
    expect(credentials).toEqual(expect.objectContaining({ accessKeyId: NEW_KEY_ID, secretAccessKey: 'stored-secret' }));
  });

  test('retries while the new key propagates', async () => {
    givenBucket();
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });
    s3.on(ListObjectsV2Command).rejectsOnce(Object.assign(new Error('not yet'), { name: 'InvalidAccessKeyId' })).resolves({});
    useFakeClock();

    await onFakeClock(handler(rotationEvent('testSecret'), lambdaContext()));

    expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 2);
  });

  test('fails naming the key and the bucket when the key never works', async () => {
    jest.useFakeTimers();
    givenBucket();
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('The AWS access key Id you provided does not exist'), { name: 'InvalidAccessKeyId' }));

    const failure = failureOf(handler(rotationEvent('testSecret'), lambdaContext()));
    await jest.advanceTimersByTimeAsync(60_000);

    expect(await failure).toBe(`Access key ${NEW_KEY_ID} cannot list Lightsail bucket "${BUCKET}": InvalidAccessKeyId: The AWS access key Id you provided does not exist`);
    expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 5);
  });

  test('fails when the token holds no key', async () => {
    givenBucket();
    givenRotation();
    expect(await failureOf(handler(rotationEvent('testSecret'), lambdaContext()))).toContain('holds no access key to test');
  });
});

describe('finishSecret', () => {
  test('makes the new version current and clears AWSPENDING; the old key stays as AWSPREVIOUS', async () => {
    givenBucket();
    givenRotation();

    await handler(rotationEvent('finishSecret'), lambdaContext());

    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: CURRENT_VERSION },
      { SecretId: SECRET_ARN, VersionStage: 'AWSPENDING', RemoveFromVersionId: TOKEN },
    ]);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('fails naming the secret when the stage cannot move', async () => {
    givenBucket();
    givenRotation();
    secretsManager.on(UpdateSecretVersionStageCommand).rejects(refused('no UpdateSecretVersionStage'));

    expect(await failureOf(handler(rotationEvent('finishSecret'), lambdaContext()))).toContain(`Could not make version ${TOKEN} of secret ${SECRET_ARN} current`);
  });
});

describe('throttling and IAM propagation, as for the custom resource', () => {
  beforeEach(useFakeClock);

  test('createSecret retries throttled and denied calls until they succeed', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();
    secretsManager.on(DescribeSecretCommand).rejectsOnce(accessDenied())
      .resolves({ RotationEnabled: true, VersionIdsToStages: { [CURRENT_VERSION]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
    lightsail.on(CreateBucketAccessKeyCommand).rejectsOnce(throttled()).rejectsOnce(accessDenied())
      .resolves({ accessKey: { accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET } });
    secretsManager.on(PutSecretValueCommand).rejectsOnce(throttled()).resolves({});

    await onFakeClock(handler(rotationEvent('createSecret'), lambdaContext(60_000)));

    expect(lightsail).toHaveReceivedCommandTimes(CreateBucketAccessKeyCommand, 3);
    expect(secretsManager).toHaveReceivedCommandTimes(PutSecretValueCommand, 2);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('createSecret deletes the new key when Secrets Manager keeps throttling the store', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();
    secretsManager.on(PutSecretValueCommand).rejects(throttled());
    const context = lambdaContext(3_400);

    const message = await failureOf(onFakeClock(handler(rotationEvent('createSecret'), context)));

    const attempts = secretsManager.commandCalls(PutSecretValueCommand).length;
    expect(message).toContain(`Secrets Manager kept throttling PutSecretValue on secret ${SECRET_ARN} for 0.`);
    expect(message).toContain(`(${attempts} attempts; `);
    expect(message).toContain(`The new key ${NEW_KEY_ID} was deleted again`);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: NEW_KEY_ID });
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  test('testSecret retries S3 throttling without spending the attempts kept for the new key', async () => {
    givenBucket();
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });
    const slowDown = () => Object.assign(new Error('Please reduce your request rate'), { name: 'SlowDown' });
    s3.on(ListObjectsV2Command).rejectsOnce(slowDown()).rejectsOnce(slowDown()).rejectsOnce(slowDown())
      .rejectsOnce(slowDown()).rejectsOnce(slowDown()).resolves({});

    await onFakeClock(handler(rotationEvent('testSecret'), lambdaContext(60_000)));

    expect(s3).toHaveReceivedCommandTimes(ListObjectsV2Command, 6);
  });

  test('testSecret stops when S3 throttled until the reserve: the key is not to blame', async () => {
    givenBucket();
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });
    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error('Please reduce your request rate'), { name: 'SlowDown' }));
    const context = lambdaContext(3_400);

    const message = await failureOf(onFakeClock(handler(rotationEvent('testSecret'), context)));

    expect(message).toContain(`cannot list Lightsail bucket "${BUCKET}": SlowDown: S3 kept throttling ListBucket on Lightsail bucket "${BUCKET}" for 0.4 s`);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(2_500);
  });

  test('finishSecret fails after the IAM window, naming the call, the secret and the permission', async () => {
    givenBucket();
    givenRotation();
    secretsManager.on(UpdateSecretVersionStageCommand).rejects(accessDenied());
    const context = lambdaContext(4_000);

    const message = await failureOf(onFakeClock(handler(rotationEvent('finishSecret'), context)));

    expect(message).toContain(`Could not make version ${TOKEN} of secret ${SECRET_ARN} current: AccessDeniedException: ` +
      `UpdateSecretVersionStage on secret ${SECRET_ARN} was denied for 1.`);
    expect(message).toContain(`The handler's role needs secretsmanager:UpdateSecretVersionStage on secret ${SECRET_ARN}`);
    expect(message).toContain('IAM may still have been propagating');
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand).length).toBeGreaterThan(1);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(2_500);
  });
});

/** The JSON log lines of the current test, parsed: their step names and ids are what an operator reads. */
function logLines(): unknown[] {
  return output.map((line) => JSON.parse(line) as unknown);
}

describe('what each step logs', () => {
  test('createSecret logs the new key when it is created and when it is stored', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();

    await handler(rotationEvent('createSecret'), lambdaContext());

    expect(logLines()).toEqual([
      { step: 'key-created', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
      { step: 'key-stored', bucketName: BUCKET, accessKeyId: NEW_KEY_ID, secretArn: SECRET_ARN },
    ]);
  });

  test('createSecret logs the slot it frees, with the stage that held the key', async () => {
    givenBucket([CURRENT_KEY_ID, OLD_KEY_ID]);
    givenRotation({ previous: storedValue(OLD_KEY_ID, BUCKET, '1') });

    await handler(rotationEvent('createSecret'), lambdaContext());

    expect(logLines()[0]).toEqual({ step: 'slot-freed', bucketName: BUCKET, accessKeyId: OLD_KEY_ID, stage: 'AWSPREVIOUS' });
  });

  test('a repeated createSecret logs that the key already exists', async () => {
    givenBucket([CURRENT_KEY_ID, NEW_KEY_ID]);
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });

    await handler(rotationEvent('createSecret'), lambdaContext());

    expect(logLines()).toEqual([{ step: 'create-already-done', bucketName: BUCKET, accessKeyId: NEW_KEY_ID, requestId: TOKEN }]);
  });

  test('testSecret logs the key that works', async () => {
    givenBucket();
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });
    s3.on(ListObjectsV2Command).resolves({});

    await handler(rotationEvent('testSecret'), lambdaContext());

    expect(logLines()).toEqual([{ step: 'rotation-key-works', secretArn: SECRET_ARN, accessKeyId: NEW_KEY_ID }]);
  });

  test('finishSecret logs the version made current', async () => {
    givenBucket();
    givenRotation();

    await handler(rotationEvent('finishSecret'), lambdaContext());

    expect(logLines()).toEqual([{ step: 'rotation-finished', secretArn: SECRET_ARN, versionId: TOKEN }]);
  });

  test('a step for a version already current logs which step it skipped', async () => {
    givenBucket();
    givenRotation({ tokenStages: ['AWSCURRENT'] });

    await handler(rotationEvent('testSecret'), lambdaContext());

    expect(logLines()).toEqual([{ step: 'rotation-already-current', secretArn: SECRET_ARN, versionId: TOKEN, rotationStep: 'testSecret' }]);
  });

  test('setSecret logs nothing: it does nothing', async () => {
    givenBucket();
    givenRotation();

    await handler(rotationEvent('setSecret'), lambdaContext());

    expect(output).toEqual([]);
  });
});

describe('rotation failure reasons, word for word', () => {
  test.each([
    [{ rotationEnabled: false }, `Secret ${SECRET_ARN} is not enabled for rotation`],
    [{ tokenStages: [] }, `Version ${TOKEN} of secret ${SECRET_ARN} has no stage for rotation`],
    [{ tokenStages: ['AWSPREVIOUS'] }, `Version ${TOKEN} of secret ${SECRET_ARN} is not AWSPENDING`],
  ])('a secret or version not set up for rotation: %j', async (options, expected) => {
    givenBucket();
    givenRotation(options);

    expect(await failureOf(handler(rotationEvent('finishSecret'), lambdaContext()))).toBe(expected);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
  });

  test('a secret without versions has no stage for the token', async () => {
    givenBucket();
    secretsManager.on(DescribeSecretCommand).resolves({ RotationEnabled: true });

    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext()))).toBe(`Version ${TOKEN} of secret ${SECRET_ARN} has no stage for rotation`);
  });

  test('a step Secrets Manager does not define', async () => {
    givenBucket();
    givenRotation();

    const event = { ...rotationEvent('setSecret'), Step: 'checkSecret' } as unknown as RotationEvent;

    expect(await failureOf(handler(event, lambdaContext()))).toBe('Unknown rotation step checkSecret');
  });

  test('createSecret without a current key', async () => {
    givenBucket();
    givenRotation();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' }).rejects(secretNotFound());

    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext()))).toBe(`Secret ${SECRET_ARN} has no current access key to rotate`);
    expect(lightsail.calls()).toHaveLength(0);
  });

  test('createSecret whose key cannot be stored names the cause and the deleted key', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();
    secretsManager.on(PutSecretValueCommand).rejects(secretsManagerError('EncryptionFailure', 'no PutSecretValue'));

    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext()))).toBe(
      `Could not store access key ${NEW_KEY_ID} in secret ${SECRET_ARN}: EncryptionFailure: no PutSecretValue. ` +
      `The new key ${NEW_KEY_ID} was deleted again; nothing else changed.`);
    // Nothing claims the key was stored.
    expect(logLines()).toEqual([
      { step: 'key-created', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
      { step: 'key-deleted-after-store-failure', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
    ]);
  });

  test('testSecret without a pending key', async () => {
    givenBucket();
    givenRotation();

    expect(await failureOf(handler(rotationEvent('testSecret'), lambdaContext()))).toBe(`Version ${TOKEN} of secret ${SECRET_ARN} holds no access key to test`);
    expect(s3.calls()).toHaveLength(0);
  });

  test('finishSecret on a secret without an AWSCURRENT version moves nothing', async () => {
    givenBucket();
    givenRotation();
    secretsManager.on(DescribeSecretCommand).resolves({ RotationEnabled: true, VersionIdsToStages: { [TOKEN]: ['AWSPENDING'] } });

    expect(await failureOf(handler(rotationEvent('finishSecret'), lambdaContext()))).toBe(`Secret ${SECRET_ARN} has no AWSCURRENT version`);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
  });

  test('finishSecret names the secret and the cause when AWSPENDING cannot be cleared', async () => {
    givenBucket();
    givenRotation();
    secretsManager.on(UpdateSecretVersionStageCommand, { VersionStage: 'AWSPENDING' }).rejects(secretsManagerError('InvalidRequestException', 'no UpdateSecretVersionStage'));

    expect(await failureOf(handler(rotationEvent('finishSecret'), lambdaContext()))).toBe(
      `Could not remove AWSPENDING from version ${TOKEN} of secret ${SECRET_ARN}: InvalidRequestException: no UpdateSecretVersionStage`);
    expect(logLines()).toEqual([]);
  });
});

describe('createSecret copies the current key\'s settings', () => {
  test('keeps the stored bucket URL when Lightsail reports none', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();
    lightsail.on(GetBucketsCommand, { bucketName: BUCKET }).resolves({ buckets: [{ name: BUCKET }] });
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' }).resolves({
      VersionId: CURRENT_VERSION,
      SecretString: JSON.stringify({ ...JSON.parse(storedValue(CURRENT_KEY_ID, BUCKET, '1')), bucketUrl: 'https://stored.example/' }),
    });

    await handler(rotationEvent('createSecret'), lambdaContext());

    const put = secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input;
    expect(JSON.parse(put.SecretString!)).toEqual(expect.objectContaining({ accessKeyId: NEW_KEY_ID, bucketUrl: 'https://stored.example/', serial: '1' }));
  });

  test('reads the current key, then the token\'s version, before creating anything', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();

    await handler(rotationEvent('createSecret'), lambdaContext());

    expect(secretsManager.commandCalls(GetSecretValueCommand).slice(0, 2).map((call) => call.args[0].input)).toEqual([
      { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' },
      { SecretId: SECRET_ARN, VersionId: TOKEN },
    ]);
  });
});

describe('reading the secret during rotation', () => {
  test('describes the secret named by the event', async () => {
    givenBucket();
    givenRotation();

    await handler(rotationEvent('setSecret'), lambdaContext());

    expect(secretsManager.commandCalls(DescribeSecretCommand).map((call) => call.args[0].input)).toEqual([{ SecretId: SECRET_ARN }]);
  });

  test('fails naming the secret and the cause when it cannot be described', async () => {
    givenBucket();
    secretsManager.on(DescribeSecretCommand).rejects(secretsManagerError('InternalServiceError', 'no DescribeSecret'));

    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext()))).toBe(`Could not describe secret ${SECRET_ARN}: InternalServiceError: no DescribeSecret`);
  });

  test.each([
    ['no secret access key', { accessKeyId: NEW_KEY_ID, bucketName: BUCKET }],
    ['no bucket name', { accessKeyId: NEW_KEY_ID, secretAccessKey: 'pending-secret' }],
    ['no access key id', { secretAccessKey: 'pending-secret', bucketName: BUCKET }],
  ])('a pending value with %s is not a key: the failure names the version by token and stage', async (_missing, value) => {
    givenBucket();
    givenRotation({ pendingValue: JSON.stringify(value) });

    expect(await failureOf(handler(rotationEvent('testSecret'), lambdaContext())))
      .toBe(`version ${TOKEN} AWSPENDING of secret ${SECRET_ARN} does not hold a Lightsail bucket access key`);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('a current value that is not a whole key', () => {
  const whole = { accessKeyId: CURRENT_KEY_ID, secretAccessKey: 'stored-secret', bucketName: BUCKET, region: 'us-east-1' };

  test.each([
    ['without an access key id', JSON.stringify({ ...whole, accessKeyId: '' })],
    ['without a secret access key', JSON.stringify({ ...whole, secretAccessKey: undefined })],
    ['without a bucket', JSON.stringify({ ...whole, bucketName: '' })],
    ['without any value', undefined],
  ])('%s is refused before anything is created', async (_name, secretString) => {
    givenBucket();
    givenRotation();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' })
      .resolves({ VersionId: CURRENT_VERSION, SecretString: secretString });

    expect(await failureOf(handler(rotationEvent('createSecret'), lambdaContext())))
      .toBe(`version AWSCURRENT of secret ${SECRET_ARN} does not hold a Lightsail bucket access key`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('a whole key is rotated', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation();
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' })
      .resolves({ VersionId: CURRENT_VERSION, SecretString: JSON.stringify(whole) });

    await handler(rotationEvent('createSecret'), lambdaContext());

    expect(lightsail).toHaveReceivedCommandWith(CreateBucketAccessKeyCommand, { bucketName: BUCKET });
  });
});

describe('what a rotation call refused at once is called, on a fake clock', () => {
  const THROTTLED_AT_ONCE = 'for 0.0 s (1 attempt; last answer: ThrottlingException: Rate exceeded); ' +
    "the rest of the function's time was kept to report the failure and clean up";

  beforeEach(useFakeClock);

  test('a throttled DescribeSecret', async () => {
    givenRotation();
    secretsManager.on(DescribeSecretCommand).rejects(throttled());

    expect(await failureOf(onFakeClock(handler(rotationEvent('finishSecret'), lambdaContext(3_000))))).toBe(
      `Could not describe secret ${SECRET_ARN}: ThrottlingException: Secrets Manager kept throttling DescribeSecret on secret ${SECRET_ARN} ${THROTTLED_AT_ONCE}`);
  });

  test('a throttled removal of AWSPENDING', async () => {
    givenRotation();
    secretsManager.on(UpdateSecretVersionStageCommand, { VersionStage: 'AWSPENDING' }).rejects(throttled());

    expect(await failureOf(onFakeClock(handler(rotationEvent('finishSecret'), lambdaContext(3_000))))).toBe(
      `Could not remove AWSPENDING from version ${TOKEN} of secret ${SECRET_ARN}: ThrottlingException: Secrets Manager kept throttling ` +
      `UpdateSecretVersionStage on secret ${SECRET_ARN} ${THROTTLED_AT_ONCE}`);
  });
});

describe('createSecret during a serial bump\'s deployment', () => {
  test('never deletes the previous generation\'s key to make room: fails clearly, and Secrets Manager retries later', async () => {
    givenBucket([CURRENT_KEY_ID, OLD_KEY_ID]);
    givenRotation({ previous: storedValue(OLD_KEY_ID, BUCKET, '0') });

    const message = await failureOf(handler(rotationEvent('createSecret'), lambdaContext()));

    expect(message).toContain(`${OLD_KEY_ID} (AWSPREVIOUS, serial 0), belongs to another generation than the current key (serial 1)`);
    expect(message).toContain('Secrets Manager retries the rotation later');
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });
});

describe('the deadline reaches the SDK', () => {
  test('DescribeSecret, GetSecretValue, UpdateSecretVersionStage and S3 are sent with an abort signal', async () => {
    givenBucket([CURRENT_KEY_ID]);
    givenRotation({ pendingValue: storedValue(NEW_KEY_ID, BUCKET, '1') });
    s3.on(ListObjectsV2Command).resolves({});

    await handler(rotationEvent('testSecret'), lambdaContext());
    await handler(rotationEvent('finishSecret'), lambdaContext());

    const calls = [...secretsManager.calls(), ...s3.calls()];
    expect(new Set(calls.map((call) => (call.args[0] as object).constructor.name))).toEqual(new Set(
      ['DescribeSecretCommand', 'GetSecretValueCommand', 'UpdateSecretVersionStageCommand', 'ListObjectsV2Command']));
    for (const call of calls) {
      expect((call.args as unknown[])[1]).toEqual({ abortSignal: expect.any(AbortSignal) });
    }
  });
});
