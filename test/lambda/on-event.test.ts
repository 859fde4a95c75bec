import {
  CreateBucketAccessKeyCommand,
  DeleteBucketAccessKeyCommand,
  GetBucketAccessKeysCommand,
  GetBucketsCommand,
  LightsailServiceException,
} from '@aws-sdk/client-lightsail';
import {
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/on-event';
import { BUCKET, SECRET_ARN, createEvent, deleteEvent, updateEvent } from './events';
import {
  BUCKET_URL, CREATE_REQUEST_ID, FOREIGN_KEY_ID, NEW_KEY_ID, NEW_SECRET, OLD_KEY_ID,
  failureOf, givenBucket, givenSecretVersions, legacyNotFound, lightsail, notFound, onFakeClock, output,
  refused, secretNotFound, secretsManager, secretsManagerError, serverError, storedValue, throttled, useFakeClock,
  lambdaContext,
} from './fixtures';

describe('Create', () => {
  test('creates the key, stores it under the RequestId and returns only its id', async () => {
    givenBucket();

    const result = await handler(createEvent(), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: NEW_KEY_ID, Data: { AccessKeyId: NEW_KEY_ID } });
    expect(JSON.stringify(result)).not.toContain(NEW_SECRET);
    expect(lightsail).toHaveReceivedCommandWith(CreateBucketAccessKeyCommand, { bucketName: BUCKET });
    expect(secretsManager).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
    const put = secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input;
    expect(put.SecretId).toBe(SECRET_ARN);
    expect(put.ClientRequestToken).toBe(CREATE_REQUEST_ID);
    // No stage given: Secrets Manager makes the new version AWSCURRENT.
    expect(put).not.toHaveProperty('VersionStages');
    expect(JSON.parse(put.SecretString!)).toEqual({
      accessKeyId: NEW_KEY_ID,
      secretAccessKey: NEW_SECRET,
      bucketName: BUCKET,
      region: 'us-east-1',
      bucketUrl: BUCKET_URL,
    });
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
    expect(output.some((line) => line.includes('key-stored') && line.includes(NEW_KEY_ID))).toBe(true);
  });

  test('checks the secret, the bucket and its keys before creating', async () => {
    givenBucket([OLD_KEY_ID]);

    await handler(createEvent(), lambdaContext());

    expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: CREATE_REQUEST_ID });
    const readStored = secretsManager.commandCalls(GetSecretValueCommand)[0];
    const getBuckets = lightsail.commandCalls(GetBucketsCommand)[0];
    const getKeys = lightsail.commandCalls(GetBucketAccessKeysCommand)[0];
    const create = lightsail.commandCalls(CreateBucketAccessKeyCommand)[0];
    const put = secretsManager.commandCalls(PutSecretValueCommand)[0];
    expect(readStored.calledBefore(create)).toBe(true);
    expect(getBuckets.calledBefore(create)).toBe(true);
    expect(getKeys.calledBefore(create)).toBe(true);
    expect(create.calledBefore(put)).toBe(true);
  });

  test('a repeated Create with the same RequestId returns the stored key and creates nothing', async () => {
    givenBucket([NEW_KEY_ID]);
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: CREATE_REQUEST_ID })
      .resolves({ VersionId: CREATE_REQUEST_ID, SecretString: storedValue(NEW_KEY_ID), VersionStages: ['AWSCURRENT'] });

    const result = await handler(createEvent(), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: NEW_KEY_ID, Data: { AccessKeyId: NEW_KEY_ID } });
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('fails without creating a key when the secret cannot be read', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejects(refused('not allowed to read the secret'));

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toContain(SECRET_ARN);
    expect(message).toContain('not allowed to read the secret');
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test.each([
    ['NotFoundException', () => notFound()],
    ['the base exception with code DoesNotExist', () => legacyNotFound('Bucket not found')],
    ['a message containing DoesNotExist', () => new LightsailServiceException({
      name: 'LightsailServiceException', $fault: 'client', $metadata: {}, message: 'DoesNotExist: no such bucket',
    })],
  ])('fails naming the bucket when it does not exist (%s)', async (_name, error) => {
    givenBucket();
    lightsail.on(GetBucketsCommand).rejects(error());

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toBe(`Lightsail bucket "${BUCKET}" does not exist in us-east-1`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('fails naming the bucket when GetBuckets answers without it', async () => {
    givenBucket();
    lightsail.on(GetBucketsCommand).resolves({ buckets: [] });

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(`Lightsail bucket "${BUCKET}" does not exist in us-east-1`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('fails naming the bucket and the cause when the bucket cannot be read', async () => {
    givenBucket();
    lightsail.on(GetBucketAccessKeysCommand).rejects(refused('no GetBucketAccessKeys'));

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toBe(`Could not read Lightsail bucket "${BUCKET}": OperationFailureException: no GetBucketAccessKeys`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('refuses a third key: Lightsail allows two per bucket', async () => {
    givenBucket([OLD_KEY_ID, FOREIGN_KEY_ID]);

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toContain(`Lightsail bucket "${BUCKET}" already has 2 access keys (${OLD_KEY_ID}, ${FOREIGN_KEY_ID})`);
    expect(message).toContain('Lightsail allows 2 keys per bucket');
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('fails naming the bucket and the cause when CreateBucketAccessKey fails', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejects(refused('no CreateBucketAccessKey'));

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toBe(`Could not create an access key for Lightsail bucket "${BUCKET}": OperationFailureException: no CreateBucketAccessKey`);
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('retries CreateBucketAccessKey when throttled, which Lightsail answers before acting', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ accessKey: { accessKeyId: NEW_KEY_ID, secretAccessKey: NEW_SECRET } });
    useFakeClock();

    const result = await onFakeClock(handler(createEvent(), lambdaContext()));

    expect(result.PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(lightsail).toHaveReceivedCommandTimes(CreateBucketAccessKeyCommand, 3);
  });

  test('never repeats a CreateBucketAccessKey that failed otherwise: its key may exist', async () => {
    givenBucket([OLD_KEY_ID]);
    lightsail.on(CreateBucketAccessKeyCommand).rejects(serverError());

    await failureOf(handler(createEvent(), lambdaContext()));

    expect(lightsail).toHaveReceivedCommandTimes(CreateBucketAccessKeyCommand, 1);
  });

  test('names a key that appeared during a failed create, without claiming it, and deletes nothing', async () => {
    givenBucket([OLD_KEY_ID]);
    lightsail.on(CreateBucketAccessKeyCommand).rejects(serverError());
    lightsail.on(GetBucketAccessKeysCommand, { bucketName: BUCKET })
      .resolvesOnce({ accessKeys: [{ accessKeyId: OLD_KEY_ID }] })
      .resolves({ accessKeys: [{ accessKeyId: OLD_KEY_ID }, { accessKeyId: NEW_KEY_ID }] });

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toContain('ServiceException: Internal failure');
    expect(message).toContain(`Key ${NEW_KEY_ID} appeared on the bucket during the failed call`);
    // CloudFormation creates resources in parallel: the key may be a sibling resource's.
    expect(message).toContain('it may belong to another resource created at the same time');
    expect(message).not.toMatch(/this call did|made by this call and/);
    expect(message).toContain(`aws lightsail delete-bucket-access-key --bucket-name ${BUCKET} --access-key-id ${NEW_KEY_ID}`);
    expect(message).not.toContain(`--access-key-id ${OLD_KEY_ID}`);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('names every key that appeared, each with its own delete command', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejects(serverError());
    lightsail.on(GetBucketAccessKeysCommand, { bucketName: BUCKET })
      .resolvesOnce({ accessKeys: [] })
      .resolves({ accessKeys: [{ accessKeyId: NEW_KEY_ID }, { accessKeyId: FOREIGN_KEY_ID }] });

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toContain(`Key ${NEW_KEY_ID}, ${FOREIGN_KEY_ID} appeared on the bucket`);
    expect(message).toContain(`delete it with: aws lightsail delete-bucket-access-key --bucket-name ${BUCKET} --access-key-id ${NEW_KEY_ID}; ` +
      `aws lightsail delete-bucket-access-key --bucket-name ${BUCKET} --access-key-id ${FOREIGN_KEY_ID}`);
  });

  test('says so when it cannot check for a key made by the failed create', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).rejects(serverError());
    lightsail.on(GetBucketAccessKeysCommand, { bucketName: BUCKET })
      .resolvesOnce({ accessKeys: [] })
      .rejects(refused('no GetBucketAccessKeys'));

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toContain('Could not check for a key made by the failed call (OperationFailureException: no GetBucketAccessKeys)');
  });

  test('deletes a key that came back without its secret', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).resolves({ accessKey: { accessKeyId: NEW_KEY_ID } });

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toContain(`access key ${NEW_KEY_ID} for bucket "${BUCKET}" without its secret access key`);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: NEW_KEY_ID });
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  test('fails when Lightsail returns no key id', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).resolves({ accessKey: { secretAccessKey: NEW_SECRET } });

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toBe(`Lightsail returned no access key id for bucket "${BUCKET}"`);
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });

  describe('when storing the key fails', () => {
    beforeEach(() => {
      givenBucket();
      secretsManager.on(PutSecretValueCommand).rejects(refused('no PutSecretValue'));
    });

    test('deletes the new key, then fails naming the key, the secret and the cause', async () => {
      const message = await failureOf(handler(createEvent(), lambdaContext()));

      expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: NEW_KEY_ID });
      expect(message).toContain(`Could not store access key ${NEW_KEY_ID} in secret ${SECRET_ARN}: OperationFailureException: no PutSecretValue`);
      expect(message).toContain(`The new key ${NEW_KEY_ID} was deleted again`);
      expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    });

    test('says how to delete the key by hand when deleting it fails too', async () => {
      lightsail.on(DeleteBucketAccessKeyCommand).rejects(refused('no DeleteBucketAccessKey'));

      const message = await failureOf(handler(createEvent(), lambdaContext()));

      expect(message).toContain('Deleting the new key also failed');
      expect(message).toContain('no DeleteBucketAccessKey');
      expect(message).toContain(`aws lightsail delete-bucket-access-key --bucket-name ${BUCKET} --access-key-id ${NEW_KEY_ID}`);
    });

    test('first reads the version it tried to write: no version under the token, so the key goes', async () => {
      await failureOf(handler(createEvent(), lambdaContext()));

      const reads = secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input);
      expect(reads).toEqual([{ SecretId: SECRET_ARN, VersionId: CREATE_REQUEST_ID }, { SecretId: SECRET_ARN, VersionId: CREATE_REQUEST_ID }]);
      expect(secretsManager.commandCalls(GetSecretValueCommand)[1].calledBefore(lightsail.commandCalls(DeleteBucketAccessKeyCommand)[0])).toBe(true);
    });

    test('keeps the key and succeeds when the store took effect although it reported failure', async () => {
      secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: CREATE_REQUEST_ID })
        .rejectsOnce(secretNotFound())
        .resolves({ VersionId: CREATE_REQUEST_ID, SecretString: storedValue(NEW_KEY_ID) });

      expect(await handler(createEvent(), lambdaContext())).toEqual({ PhysicalResourceId: NEW_KEY_ID, Data: { AccessKeyId: NEW_KEY_ID } });
      expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
      expect(output.map((line) => JSON.parse(line) as unknown)).toEqual([
        { step: 'key-created', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
        { step: 'key-stored-despite-error', bucketName: BUCKET, accessKeyId: NEW_KEY_ID, secretArn: SECRET_ARN },
      ]);
    });

    test('a concurrent run of the same event stored its key first: deletes its own and answers the winner\'s', async () => {
      secretsManager.on(PutSecretValueCommand).rejects(secretsManagerError('ResourceExistsException',
        `You can't use ClientRequestToken ${CREATE_REQUEST_ID} because that value is already in use for a version of secret ${SECRET_ARN}.`));
      secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: CREATE_REQUEST_ID })
        .rejectsOnce(secretNotFound())
        .resolves({ VersionId: CREATE_REQUEST_ID, SecretString: storedValue(OLD_KEY_ID) });

      expect(await handler(createEvent(), lambdaContext())).toEqual({ PhysicalResourceId: OLD_KEY_ID, Data: { AccessKeyId: OLD_KEY_ID } });
      expect(lightsail).toHaveReceivedCommandTimes(DeleteBucketAccessKeyCommand, 1);
      expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: NEW_KEY_ID });
      expect(output.map((line) => JSON.parse(line) as unknown)).toEqual([
        { step: 'key-created', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
        { step: 'key-deleted-after-store-failure', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
        { step: 'concurrent-run-stored', bucketName: BUCKET, accessKeyId: OLD_KEY_ID, requestId: CREATE_REQUEST_ID },
      ]);
    });

    test('says so when the version it tried to write cannot be read, and deletes the key', async () => {
      secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: CREATE_REQUEST_ID })
        .rejectsOnce(secretNotFound())
        .rejects(refused('no GetSecretValue'));

      const message = await failureOf(handler(createEvent(), lambdaContext()));

      expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { accessKeyId: NEW_KEY_ID });
      expect(message).toBe(`Could not store access key ${NEW_KEY_ID} in secret ${SECRET_ARN}: OperationFailureException: no PutSecretValue. ` +
        `The new key ${NEW_KEY_ID} was deleted again, but checking secret ${SECRET_ARN} failed (Could not read version ` +
        `${CREATE_REQUEST_ID} of secret ${SECRET_ARN}: OperationFailureException: no GetSecretValue); make sure its AWSCURRENT version holds a key that exists.`);
    });
  });

  test.each([
    [{ BucketName: '' }, 'Property BucketName is required'],
    [{ SecretArn: '' }, `Property SecretArn is required for bucket "${BUCKET}"`],
  ])('rejects missing properties %j', async (properties, expected) => {
    expect(await failureOf(handler(createEvent(properties), lambdaContext()))).toContain(expected);
    expect(lightsail.calls()).toHaveLength(0);
  });
});

describe('Update', () => {
  test('returns the same id and calls nothing when nothing that matters changed', async () => {
    const result = await handler(updateEvent(OLD_KEY_ID, { Serial: '1' }, { Serial: '1' }), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: OLD_KEY_ID, Data: { AccessKeyId: OLD_KEY_ID } });
    expect(lightsail.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  test.each([
    ['Serial', { Serial: '2' }, { Serial: '1' }],
    ['Serial (newly set)', { Serial: '0' }, {}],
    ['BucketName', { BucketName: BUCKET }, { BucketName: 'old-bucket' }],
    ['SecretArn', { SecretArn: SECRET_ARN }, { SecretArn: `${SECRET_ARN}-old` }],
  ])('a changed %s creates and stores a new key and keeps the old one', async (_name, properties, oldProperties) => {
    givenBucket([OLD_KEY_ID]);
    const event = updateEvent(OLD_KEY_ID, properties, oldProperties);

    const result = await handler(event, lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: NEW_KEY_ID, Data: { AccessKeyId: NEW_KEY_ID } });
    expect(secretsManager).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: SECRET_ARN, ClientRequestToken: event.RequestId });
    // CloudFormation deletes the old key after the deployment succeeds, or the new one on rollback.
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('a replacement is refused when the old key and another key fill the bucket', async () => {
    givenBucket([OLD_KEY_ID, FOREIGN_KEY_ID]);

    const message = await failureOf(handler(updateEvent(OLD_KEY_ID, { Serial: '2' }, { Serial: '1' }), lambdaContext()));

    expect(message).toContain('Lightsail allows 2 keys per bucket');
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });
});

describe('Delete', () => {
  test.each([
    'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED',
    'Example-AppKey51DFC408-1A2B3C4D5E6F',
    'c0ffee00-0000-4000-8000-000000000001',
  ])('does nothing for a physical id that is not an access key id: %s', async (physicalResourceId) => {
    givenBucket([FOREIGN_KEY_ID]);

    const result = await handler(deleteEvent(physicalResourceId), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: physicalResourceId });
    expect(lightsail.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  test('after a replacement, deletes the old key and leaves the new one and the secret alone', async () => {
    givenBucket([OLD_KEY_ID, NEW_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    const result = await handler(deleteEvent(OLD_KEY_ID, { Serial: '1' }), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: OLD_KEY_ID });
    expect(lightsail).toHaveReceivedCommandTimes(DeleteBucketAccessKeyCommand, 1);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: OLD_KEY_ID });
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
  });

  test.each([
    ['NotFoundException', () => notFound('The access key does not exist')],
    ['the base exception with code DoesNotExist', () => legacyNotFound('gone')],
  ])('succeeds when the key or its bucket is already gone (%s)', async (_name, error) => {
    givenBucket();
    givenSecretVersions(storedValue(OLD_KEY_ID));
    lightsail.on(DeleteBucketAccessKeyCommand).rejects(error());

    const result = await handler(deleteEvent(OLD_KEY_ID), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: OLD_KEY_ID });
    expect(output.some((line) => line.includes('key-already-gone'))).toBe(true);
  });

  test('fails naming the key, the bucket and the cause when deleting fails otherwise', async () => {
    givenBucket();
    lightsail.on(DeleteBucketAccessKeyCommand).rejects(refused('no DeleteBucketAccessKey'));

    const message = await failureOf(handler(deleteEvent(OLD_KEY_ID), lambdaContext()));

    expect(message).toBe(`Could not delete access key ${OLD_KEY_ID} of Lightsail bucket "${BUCKET}": OperationFailureException: no DeleteBucketAccessKey`);
  });

  test('after a rolled-back replacement, makes the previous version current again', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID));

    await handler(deleteEvent(NEW_KEY_ID), lambdaContext());

    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { accessKeyId: NEW_KEY_ID });
    expect(secretsManager).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v-previous', RemoveFromVersionId: 'v-current',
    });
    // The secret moves back before the key goes, so it never holds a deleted key.
    const restore = secretsManager.commandCalls(UpdateSecretVersionStageCommand)[0];
    expect(restore.calledBefore(lightsail.commandCalls(DeleteBucketAccessKeyCommand)[0])).toBe(true);
  });

  test('looks for the previous key in the bucket the previous version names', async () => {
    givenBucket();
    lightsail.on(GetBucketAccessKeysCommand, { bucketName: 'old-bucket' }).resolves({ accessKeys: [{ accessKeyId: OLD_KEY_ID }] });
    givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID, 'old-bucket'));

    await handler(deleteEvent(NEW_KEY_ID), lambdaContext());

    expect(lightsail).toHaveReceivedCommandWith(GetBucketAccessKeysCommand, { bucketName: 'old-bucket' });
    expect(secretsManager).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 1);
  });

  test.each([
    ['the previous key no longer exists', () => givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID))],
    ['there is no previous version', () => givenSecretVersions(storedValue(NEW_KEY_ID))],
    ['the previous version is not a stored key', () => givenSecretVersions(storedValue(NEW_KEY_ID), 'edited by hand')],
    ['the secret has no value', () => givenSecretVersions()],
    ['the secret is gone', () => secretsManager.on(GetSecretValueCommand).rejects(secretNotFound("Secrets Manager can't find the specified secret."))],
    ['the previous bucket is gone', () => {
      givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID, 'deleted-bucket'));
      lightsail.on(GetBucketAccessKeysCommand, { bucketName: 'deleted-bucket' }).rejects(notFound());
    }],
  ])('leaves the secret as it is when %s', async (_name, arrange) => {
    givenBucket();
    arrange();

    const result = await handler(deleteEvent(NEW_KEY_ID), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: NEW_KEY_ID });
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { accessKeyId: NEW_KEY_ID });
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
  });

  test('fails naming the secret when restoring the previous version fails', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID));
    secretsManager.on(UpdateSecretVersionStageCommand).rejects(refused('no UpdateSecretVersionStage'));

    const message = await failureOf(handler(deleteEvent(NEW_KEY_ID), lambdaContext()));

    expect(message).toBe(`Could not make version v-previous of secret ${SECRET_ARN} current: OperationFailureException: no UpdateSecretVersionStage`);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('fails naming the bucket when the previous key cannot be looked up', async () => {
    givenBucket();
    givenSecretVersions(storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID));
    lightsail.on(GetBucketAccessKeysCommand).rejects(refused('no GetBucketAccessKeys'));

    const message = await failureOf(handler(deleteEvent(NEW_KEY_ID), lambdaContext()));

    expect(message).toBe(`Could not list the access keys of Lightsail bucket "${BUCKET}": OperationFailureException: no GetBucketAccessKeys`);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('fails naming the secret when it cannot be read', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejects(refused('no GetSecretValue'));

    const message = await failureOf(handler(deleteEvent(NEW_KEY_ID), lambdaContext()));

    expect(message).toBe(`Could not read version AWSCURRENT of secret ${SECRET_ARN}: OperationFailureException: no GetSecretValue`);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });
});

/** The JSON log lines of the current test, parsed: their step names and ids are what an operator reads. */
function logLines(): unknown[] {
  return output.map((line) => JSON.parse(line) as unknown);
}

describe('resource properties', () => {
  test.each([
    ['Create', (properties: Record<string, unknown>) => ({ ...createEvent(), ResourceProperties: { ServiceToken: 'token', ...properties } })],
    ['Update', (properties: Record<string, unknown>) => ({
      ...updateEvent(OLD_KEY_ID, {}, { Serial: '1' }), ResourceProperties: { ServiceToken: 'token', ...properties },
    })],
    ['Delete', (properties: Record<string, unknown>) => ({ ...deleteEvent(OLD_KEY_ID), ResourceProperties: { ServiceToken: 'token', ...properties } })],
  ])('%s refuses a missing or non-string BucketName or SecretArn before calling anything', async (_type, eventWith) => {
    const cases: [Record<string, unknown>, string][] = [
      [{ SecretArn: SECRET_ARN }, 'Property BucketName is required and must be a non-empty string'],
      [{ BucketName: 42, SecretArn: SECRET_ARN }, 'Property BucketName is required and must be a non-empty string'],
      [{ BucketName: '', SecretArn: SECRET_ARN }, 'Property BucketName is required and must be a non-empty string'],
      [{ BucketName: BUCKET }, `Property SecretArn is required for bucket "${BUCKET}" and must be a non-empty string`],
      [{ BucketName: BUCKET, SecretArn: ['arn'] }, `Property SecretArn is required for bucket "${BUCKET}" and must be a non-empty string`],
      [{ BucketName: BUCKET, SecretArn: '' }, `Property SecretArn is required for bucket "${BUCKET}" and must be a non-empty string`],
    ];
    for (const [properties, expected] of cases) {
      const event = eventWith(properties) as Parameters<typeof handler>[0];
      expect(await failureOf(handler(event, lambdaContext()))).toBe(expected);
    }
    expect(lightsail.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  test('a numeric Serial is stored as text; no Serial stores none', async () => {
    givenBucket();
    const event = createEvent();
    await handler({ ...event, ResourceProperties: { ...event.ResourceProperties, Serial: 3 } }, lambdaContext());
    expect(JSON.parse(secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString!)).toEqual(
      expect.objectContaining({ serial: '3' }));

    secretsManager.resetHistory();
    await handler(createEvent(), lambdaContext());
    expect(JSON.parse(secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString!)).not.toHaveProperty('serial');
  });

  test('a Serial of 0 is a serial: removing it replaces the key', async () => {
    givenBucket([OLD_KEY_ID]);

    const result = await handler(updateEvent(OLD_KEY_ID, {}, { Serial: '0' }), lambdaContext());

    expect(result.PhysicalResourceId).toBe(NEW_KEY_ID);
  });

  test('the region stored with the key is the function\'s, and empty when the runtime sets none', async () => {
    givenBucket();
    delete process.env.AWS_REGION;

    await handler(createEvent(), lambdaContext());

    expect(JSON.parse(secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString!)).toEqual(
      expect.objectContaining({ region: '' }));
  });

  test('a missing bucket is looked for in "this region" when the runtime sets none', async () => {
    givenBucket();
    lightsail.on(GetBucketsCommand).resolves({ buckets: [] });
    delete process.env.AWS_REGION;

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(`Lightsail bucket "${BUCKET}" does not exist in this region`);
  });

  test('a bucket whose keys Lightsail cannot find is a missing bucket', async () => {
    givenBucket();
    lightsail.on(GetBucketAccessKeysCommand).rejects(notFound());

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(`Lightsail bucket "${BUCKET}" does not exist in us-east-1`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('a bucket whose key list is empty has room', async () => {
    givenBucket();
    lightsail.on(GetBucketAccessKeysCommand).resolves({});

    expect((await handler(createEvent(), lambdaContext())).PhysicalResourceId).toBe(NEW_KEY_ID);
  });
});

describe('a secret scheduled for deletion', () => {
  function markedForDeletion(): InvalidRequestException {
    return new InvalidRequestException({
      $metadata: {}, message: "You can't perform this operation on the secret because it was marked for deletion.",
    });
  }

  test('Delete still deletes the key, and says what it could not check', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejects(markedForDeletion());

    const result = await handler(deleteEvent(OLD_KEY_ID), lambdaContext());

    const unreadable = new RegExp(`^Could not read version AWS(CURRENT|PREVIOUS|PENDING) of secret ${SECRET_ARN}: InvalidRequestException: ` +
      "You can't perform this operation on the secret because it was marked for deletion\\.");
    expect(result.PhysicalResourceId).toBe(OLD_KEY_ID);
    expect(result.Data?.NotChecked).toMatch(unreadable);
    expect(result.Data?.NotChecked).toMatch(/\. Not checked: whether the secret must move back to a previous key, and which other keys of this generation \(made by rotation\) it holds; look for them on the bucket$/);
    expect(lightsail).toHaveReceivedCommandTimes(DeleteBucketAccessKeyCommand, 1);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { bucketName: BUCKET, accessKeyId: OLD_KEY_ID });
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    const lines = logLines() as Array<Record<string, string>>;
    expect(lines.map((line) => line.step)).toEqual(['secret-not-checked', 'key-deleted']);
    expect(lines[1]).toEqual({ step: 'key-deleted', bucketName: BUCKET, accessKeyId: OLD_KEY_ID });
    expect(lines[0]).toEqual({ step: 'secret-not-checked', secretArn: SECRET_ARN, accessKeyId: OLD_KEY_ID, reason: expect.stringMatching(unreadable) });
  });

  test.each(['DecryptionFailure', 'KMSAccessDeniedException', 'KMSInvalidStateException', 'KMSDisabledException'])(
    'a secret its encryption key cannot decrypt (%s) does not block the Delete either', async (name) => {
      givenBucket();
      secretsManager.on(GetSecretValueCommand).rejects(secretsManagerError(name, 'the KMS key cannot be used'));
      lightsail.on(DeleteBucketAccessKeyCommand).rejects(notFound('The access key does not exist'));

      const result = await handler(deleteEvent(OLD_KEY_ID), lambdaContext());

      expect(result.Data?.NotChecked).toContain(`${name}: the KMS key cannot be used. Not checked:`);
      expect((logLines() as Array<Record<string, string>>).map((line) => line.step)).toEqual(['secret-not-checked', 'key-already-gone']);
    });

  test('another error that mentions deletion still fails the Delete, which then deletes nothing', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejects(secretsManagerError('InternalServiceError', 'the secret marked for deletion could not be read'));

    expect(await failureOf(handler(deleteEvent(OLD_KEY_ID), lambdaContext()))).toMatch(/InternalServiceError: the secret marked for deletion could not be read$/);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('a Create fails naming the secret and makes no key', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejects(markedForDeletion());

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(`Could not read version ${CREATE_REQUEST_ID} of secret ${SECRET_ARN}: ` +
      "InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion.");
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('any other invalid request is a failure naming the version, the secret and the cause, and deletes nothing', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejects(new InvalidRequestException({
      $metadata: {}, message: 'You can\'t perform this operation on the secret because it is being rotated.',
    }));

    const message = await failureOf(handler(deleteEvent(OLD_KEY_ID), lambdaContext()));

    expect(message).toMatch(new RegExp(`^Could not read version AWS(CURRENT|PREVIOUS|PENDING) of secret ${SECRET_ARN}: ` +
      'InvalidRequestException: You can\'t perform this operation on the secret because it is being rotated\\.$'));
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('another error that mentions deletion is still a failure', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand).rejects(secretsManagerError('DecryptionFailure', 'cannot decrypt a secret marked for deletion'));

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(
      `Could not read version ${CREATE_REQUEST_ID} of secret ${SECRET_ARN}: DecryptionFailure: cannot decrypt a secret marked for deletion`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('an answer without a version id is no version', async () => {
    givenBucket();
    secretsManager.on(GetSecretValueCommand, { VersionId: CREATE_REQUEST_ID }).resolves({ SecretString: storedValue(OLD_KEY_ID) });

    expect(await handler(createEvent(), lambdaContext())).toEqual({ PhysicalResourceId: NEW_KEY_ID, Data: { AccessKeyId: NEW_KEY_ID } });
    expect(lightsail).toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });
});

describe('what the handler logs', () => {
  test('Create: the key when it is created and when it is stored', async () => {
    givenBucket();

    await handler(createEvent(), lambdaContext());

    expect(logLines()).toEqual([
      { step: 'key-created', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
      { step: 'key-stored', bucketName: BUCKET, accessKeyId: NEW_KEY_ID, secretArn: SECRET_ARN },
    ]);
  });

  test('a repeated Create: the stored key and the request', async () => {
    givenBucket([NEW_KEY_ID]);
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionId: CREATE_REQUEST_ID })
      .resolves({ VersionId: CREATE_REQUEST_ID, SecretString: storedValue(NEW_KEY_ID) });

    await handler(createEvent(), lambdaContext());

    expect(logLines()).toEqual([{ step: 'create-already-done', bucketName: BUCKET, accessKeyId: NEW_KEY_ID, requestId: CREATE_REQUEST_ID }]);
  });

  test('a Create whose key cannot be stored: the deletion of the new key', async () => {
    givenBucket();
    secretsManager.on(PutSecretValueCommand).rejects(secretsManagerError('EncryptionFailure', 'no PutSecretValue'));

    await failureOf(handler(createEvent(), lambdaContext()));

    expect(logLines()).toEqual([
      { step: 'key-created', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
      { step: 'key-deleted-after-store-failure', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
    ]);
  });

  test('Update without a change: the unchanged key', async () => {
    await handler(updateEvent(OLD_KEY_ID, { Serial: '1' }, { Serial: '1' }), lambdaContext());

    expect(logLines()).toEqual([{ step: 'update-unchanged', bucketName: BUCKET, accessKeyId: OLD_KEY_ID }]);
  });

  test('a replacing Update: which properties changed, then the new key', async () => {
    givenBucket([OLD_KEY_ID]);

    await handler(updateEvent(OLD_KEY_ID, { Serial: '2', SecretArn: SECRET_ARN }, { Serial: '1', SecretArn: `${SECRET_ARN}-old` }), lambdaContext());

    expect(logLines()).toEqual([
      { step: 'update-replacing', bucketName: BUCKET, changed: 'SecretArn,Serial' },
      { step: 'key-created', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
      { step: 'key-stored', bucketName: BUCKET, accessKeyId: NEW_KEY_ID, secretArn: SECRET_ARN },
    ]);
  });

  test('Delete of a physical id that is not a key: the id it skipped', async () => {
    await handler(deleteEvent('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED'), lambdaContext());

    expect(logLines()).toEqual([{ step: 'delete-skipped-not-a-key', physicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED' }]);
  });

  test('Delete: each key deleted, or already gone', async () => {
    givenBucket();
    givenSecretVersions(storedValue(OLD_KEY_ID), storedValue('AKIAGONEKEY000000001'));
    lightsail.on(DeleteBucketAccessKeyCommand, { accessKeyId: 'AKIAGONEKEY000000001' }).rejects(notFound('The access key does not exist'));
    lightsail.on(GetBucketAccessKeysCommand, { bucketName: BUCKET }).resolves({ accessKeys: [] });

    await handler(deleteEvent(OLD_KEY_ID), lambdaContext());

    expect(logLines()).toEqual([
      { step: 'key-deleted', bucketName: BUCKET, accessKeyId: OLD_KEY_ID },
      { step: 'key-already-gone', bucketName: BUCKET, accessKeyId: 'AKIAGONEKEY000000001' },
    ]);
  });

  test('the Delete of a rolled-back replacement: the restored previous key, then the deleted new key', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    await handler(deleteEvent(NEW_KEY_ID, { Serial: '2' }), lambdaContext());

    expect(logLines()).toEqual([
      { step: 'secret-restored', secretArn: SECRET_ARN, accessKeyId: OLD_KEY_ID, versionId: 'v-previous' },
      { step: 'key-deleted', bucketName: BUCKET, accessKeyId: NEW_KEY_ID },
    ]);
  });
});

describe('Update and Delete corner cases', () => {
  test('an Update of a resource without a serial, with nothing changed, keeps the key', async () => {
    const result = await handler(updateEvent(OLD_KEY_ID, {}, {}), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: OLD_KEY_ID, Data: { AccessKeyId: OLD_KEY_ID } });
    expect(lightsail.calls()).toHaveLength(0);
  });

  test('a secret without AWSCURRENT is not rolled back, even when AWSPREVIOUS holds the deleted key', async () => {
    givenBucket([NEW_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(undefined, storedValue(NEW_KEY_ID), storedValue(OLD_KEY_ID));

    await handler(deleteEvent(NEW_KEY_ID), lambdaContext());

    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(lightsail).toHaveReceivedCommandWith(DeleteBucketAccessKeyCommand, { accessKeyId: NEW_KEY_ID });
  });
});

describe('what Lightsail answers about the bucket', () => {
  test('the URL stored is that of the bucket named, wherever GetBuckets lists it', async () => {
    givenBucket();
    lightsail.on(GetBucketsCommand, { bucketName: BUCKET }).resolves({
      buckets: [{ name: 'other-bucket', url: 'https://other-bucket.example/' }, { name: BUCKET, url: BUCKET_URL }],
    });

    await handler(createEvent(), lambdaContext());

    expect(JSON.parse(secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString!).bucketUrl).toBe(BUCKET_URL);
  });

  test('an answer without a bucket list is a missing bucket', async () => {
    givenBucket();
    lightsail.on(GetBucketsCommand).resolves({});

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(`Lightsail bucket "${BUCKET}" does not exist in us-east-1`);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('a bucket that GetBuckets does not find is a missing bucket, in the function\'s region', async () => {
    givenBucket();
    lightsail.on(GetBucketsCommand).rejects(notFound());

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(`Lightsail bucket "${BUCKET}" does not exist in us-east-1`);
  });

  test('a listed key without an id does not count against the limit', async () => {
    givenBucket();
    lightsail.on(GetBucketAccessKeysCommand, { bucketName: BUCKET }).resolves({ accessKeys: [{ accessKeyId: OLD_KEY_ID }, { status: 'Active' }] });

    expect((await handler(createEvent(), lambdaContext())).PhysicalResourceId).toBe(NEW_KEY_ID);
  });

  test('a Create answer without any key fails naming the bucket', async () => {
    givenBucket();
    lightsail.on(CreateBucketAccessKeyCommand).resolves({});

    expect(await failureOf(handler(createEvent(), lambdaContext()))).toBe(`Lightsail returned no access key id for bucket "${BUCKET}"`);
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
  });
});
