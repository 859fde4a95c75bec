/**
 * The rollback of a failed Update: CloudFormation sends another Update with the old properties
 * as ResourceProperties, the failed ones as OldResourceProperties and the physical id it kept.
 */
import { CreateBucketAccessKeyCommand, DeleteBucketAccessKeyCommand, GetBucketAccessKeysCommand } from '@aws-sdk/client-lightsail';
import { GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../lambda/on-event';
import { BUCKET, SECRET_ARN, updateEvent } from './events';
import {
  FOREIGN_KEY_ID, NEW_KEY_ID, OLD_KEY_ID, failureOf, givenBucket, givenSecretVersions, lambdaContext, lightsail, output, refused,
  secretNotFound, secretsManager, storedValue,
} from './fixtures';

const FAILED_KEY_ID = 'AKIAFAILEDKEY0000001';
const ROTATED_KEY_ID = 'AKIAROTATED000000001';
const OTHER_SECRET_ARN = `${SECRET_ARN}-renamed`;
const OTHER_BUCKET = 'other-bucket';

/** The rollback of a serial bump from 1 to 2 (or of another change, given as `failed`). */
function rollbackEvent(physicalResourceId = OLD_KEY_ID, failed: Record<string, string> = { Serial: '2' }) {
  return updateEvent(physicalResourceId, { Serial: '1' }, { Serial: '1', ...failed });
}

function deletedKeys(): Array<{ bucketName?: string; accessKeyId?: string }> {
  return lightsail.commandCalls(DeleteBucketAccessKeyCommand).map((call) => call.args[0].input);
}

function logLines(): unknown[] {
  return output.map((line) => JSON.parse(line) as unknown);
}

/** Versions of another secret, by stage. */
function givenVersionsOf(secretArn: string, versions: Partial<Record<'AWSCURRENT' | 'AWSPREVIOUS' | 'AWSPENDING', string>>): void {
  for (const stage of ['AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING'] as const) {
    const value = versions[stage];
    secretsManager.on(GetSecretValueCommand, { SecretId: secretArn, VersionStage: stage })
      .callsFake(async () => {
        if (value === undefined) {
          throw secretNotFound();
        }
        return { VersionId: `${secretArn}-${stage}`, SecretString: value };
      });
  }
}

describe('an Update back to the key its physical id names', () => {
  test('after a bump that failed on a full bucket: succeeds with the same id, needs no slot, makes and deletes nothing', async () => {
    givenBucket([OLD_KEY_ID, FOREIGN_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID, BUCKET, '1'));

    const result = await handler(rollbackEvent(), lambdaContext());

    expect(result).toEqual({ PhysicalResourceId: OLD_KEY_ID, Data: { AccessKeyId: OLD_KEY_ID } });
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
    expect(secretsManager).not.toHaveReceivedCommand(PutSecretValueCommand);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(logLines()).toEqual([{ step: 'update-returning', bucketName: BUCKET, accessKeyId: OLD_KEY_ID, heldKey: OLD_KEY_ID }]);
  });

  test('after a bump whose key was stored but whose answer was lost: the old key is current again, the new one deleted', async () => {
    givenBucket([OLD_KEY_ID, FAILED_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    const result = await handler(rollbackEvent(), lambdaContext());

    expect(result.PhysicalResourceId).toBe(OLD_KEY_ID);
    expect(secretsManager).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
      SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v-previous', RemoveFromVersionId: 'v-current',
    });
    expect(deletedKeys()).toEqual([{ bucketName: BUCKET, accessKeyId: FAILED_KEY_ID }]);
    // The secret first: the failed key is deleted only once nothing holds it as current.
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)[0]
      .calledBefore(lightsail.commandCalls(DeleteBucketAccessKeyCommand)[0])).toBe(true);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
    // The physical id is held: no bucket listing, and the secret is read once.
    expect(lightsail).not.toHaveReceivedCommand(GetBucketAccessKeysCommand);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
    expect(logLines()).toEqual([
      { step: 'update-returning', bucketName: BUCKET, accessKeyId: OLD_KEY_ID, heldKey: OLD_KEY_ID },
      { step: 'secret-restored', secretArn: SECRET_ARN, accessKeyId: OLD_KEY_ID, versionId: 'v-previous' },
      { step: 'failed-attempt-key-deleted', bucketName: BUCKET, accessKeyId: FAILED_KEY_ID },
    ]);
  });

  test('after a bump whose key could not be stored (and was deleted again): answers the old id and mints nothing', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID, BUCKET, '1'));

    expect((await handler(rollbackEvent(), lambdaContext())).PhysicalResourceId).toBe(OLD_KEY_ID);
    expect(lightsail.calls()).toHaveLength(0);
  });

  test('a failed key that is already gone is logged as such', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'));
    lightsail.on(DeleteBucketAccessKeyCommand).rejects(Object.assign(new Error('gone'), { name: 'NotFoundException' }));

    expect((await handler(rollbackEvent(), lambdaContext())).PhysicalResourceId).toBe(OLD_KEY_ID);
    expect(logLines()).toContainEqual({ step: 'key-already-gone', bucketName: BUCKET, accessKeyId: FAILED_KEY_ID });
  });

  test('after a move to another bucket: the failed key is deleted from the bucket it was made on', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, OTHER_BUCKET, '1'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    const result = await handler(rollbackEvent(OLD_KEY_ID, { BucketName: OTHER_BUCKET }), lambdaContext());

    expect(result.PhysicalResourceId).toBe(OLD_KEY_ID);
    expect(secretsManager).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, { MoveToVersionId: 'v-previous', RemoveFromVersionId: 'v-current' });
    expect(deletedKeys()).toEqual([{ bucketName: OTHER_BUCKET, accessKeyId: FAILED_KEY_ID }]);
  });

  test('after a renamed secret: the failed key goes with the other secret, the kept secret is not touched', async () => {
    givenBucket([OLD_KEY_ID, FAILED_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID, BUCKET, '1'));
    // The same generation (bucket and serial) in the other secret: only the secret differs.
    givenVersionsOf(OTHER_SECRET_ARN, { AWSCURRENT: storedValue(FAILED_KEY_ID, BUCKET, '1'), AWSPREVIOUS: storedValue(OLD_KEY_ID, BUCKET, '1') });

    const result = await handler(rollbackEvent(OLD_KEY_ID, { SecretArn: OTHER_SECRET_ARN }), lambdaContext());

    expect(result.PhysicalResourceId).toBe(OLD_KEY_ID);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(deletedKeys()).toEqual([{ bucketName: BUCKET, accessKeyId: FAILED_KEY_ID }]);
  });

  test('after a renamed secret: a key both secrets hold for the generation returned to is kept', async () => {
    givenBucket([OLD_KEY_ID, FAILED_KEY_ID, ROTATED_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID, BUCKET, '1'), storedValue(ROTATED_KEY_ID, BUCKET, '1'));
    givenVersionsOf(OTHER_SECRET_ARN, { AWSCURRENT: storedValue(FAILED_KEY_ID, BUCKET, '1'), AWSPREVIOUS: storedValue(ROTATED_KEY_ID, BUCKET, '1') });

    await handler(rollbackEvent(OLD_KEY_ID, { SecretArn: OTHER_SECRET_ARN }), lambdaContext());

    expect(deletedKeys()).toEqual([{ bucketName: BUCKET, accessKeyId: FAILED_KEY_ID }]);
  });

  test('a renamed secret already deleted holds nothing to delete', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID, BUCKET, '1'));

    expect((await handler(rollbackEvent(OLD_KEY_ID, { SecretArn: OTHER_SECRET_ARN }), lambdaContext())).PhysicalResourceId).toBe(OLD_KEY_ID);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('without an AWSCURRENT version, the returned key becomes current without taking it from anyone', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(undefined, storedValue(OLD_KEY_ID, BUCKET, '1'));

    await handler(rollbackEvent(), lambdaContext());

    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)[0].args[0].input).toEqual({
      SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: 'v-previous',
    });
  });
});

describe('a physical id that rotation made stale', () => {
  test('returns to the newest key of its generation that still exists, and answers the same id', async () => {
    givenBucket([ROTATED_KEY_ID, FAILED_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), storedValue(ROTATED_KEY_ID, BUCKET, '1'));

    const result = await handler(rollbackEvent('AKIAFIRSTKEY00000001'), lambdaContext());

    expect(result.PhysicalResourceId).toBe('AKIAFIRSTKEY00000001');
    expect(secretsManager).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, { MoveToVersionId: 'v-previous', RemoveFromVersionId: 'v-current' });
    expect(deletedKeys()).toEqual([{ bucketName: BUCKET, accessKeyId: FAILED_KEY_ID }]);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('prefers AWSCURRENT when it holds the generation', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '1'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    expect((await handler(rollbackEvent('AKIAFIRSTKEY00000001'), lambdaContext())).PhysicalResourceId).toBe('AKIAFIRSTKEY00000001');
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(logLines()).toEqual([{ step: 'update-returning', bucketName: BUCKET, accessKeyId: 'AKIAFIRSTKEY00000001', heldKey: ROTATED_KEY_ID }]);
  });

  test('a key of the generation that no longer exists is no return: the Update is a replacement', async () => {
    givenBucket([FAILED_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), storedValue(ROTATED_KEY_ID, BUCKET, '1'));

    expect((await handler(rollbackEvent('AKIAFIRSTKEY00000001'), lambdaContext())).PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(lightsail).toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });

  test('a pending key of the generation is never returned to: it was never tested', async () => {
    givenBucket([FAILED_KEY_ID, ROTATED_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), undefined, storedValue(ROTATED_KEY_ID, BUCKET, '1'));
    lightsail.on(GetBucketAccessKeysCommand, { bucketName: BUCKET }).resolves({ accessKeys: [{ accessKeyId: FAILED_KEY_ID }] });

    expect((await handler(rollbackEvent('AKIAFIRSTKEY00000001'), lambdaContext())).PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('fails naming the bucket when its keys cannot be listed', async () => {
    givenBucket([ROTATED_KEY_ID, FAILED_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), storedValue(ROTATED_KEY_ID, BUCKET, '1'));
    lightsail.on(GetBucketAccessKeysCommand).rejects(refused('no GetBucketAccessKeys'));

    expect(await failureOf(handler(rollbackEvent('AKIAFIRSTKEY00000001'), lambdaContext()))).toBe(
      `Could not list the access keys of Lightsail bucket "${BUCKET}": OperationFailureException: no GetBucketAccessKeys`);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
  });
});

describe('what stays a replacement', () => {
  test('a genuine change back to old values: the physical id\'s recorded generation differs from the new properties', async () => {
    const currentKey = NEW_KEY_ID.replace('NEW', 'CUR');
    // The old key still exists (its clean-up has not run yet): still no return to it.
    givenBucket([currentKey, OLD_KEY_ID]);
    givenSecretVersions(storedValue(currentKey, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    const result = await handler(updateEvent(currentKey, { Serial: '1' }, { Serial: '2' }), lambdaContext());

    expect(result.PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(secretsManager).toHaveReceivedCommand(PutSecretValueCommand);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    // As any replacement in a full bucket: the key only AWSPREVIOUS holds makes room.
    expect(logLines()).toContainEqual({ step: 'slot-freed', bucketName: BUCKET, accessKeyId: OLD_KEY_ID, stage: 'AWSPREVIOUS' });
    expect(logLines()).not.toContainEqual(expect.objectContaining({ step: 'update-returning' }));
  });

  test('a physical id held only as AWSPENDING', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), undefined, storedValue(OLD_KEY_ID, BUCKET, '1'));

    expect((await handler(rollbackEvent(), lambdaContext())).PhysicalResourceId).toBe(NEW_KEY_ID);
  });

  test('a replacement delivered twice is never a return to the key its first run stored', async () => {
    givenBucket([OLD_KEY_ID, NEW_KEY_ID]);
    const event = updateEvent(OLD_KEY_ID, { SecretArn: SECRET_ARN }, { SecretArn: OTHER_SECRET_ARN });
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN })
      .resolves({ VersionId: event.RequestId, SecretString: storedValue(NEW_KEY_ID), VersionStages: ['AWSCURRENT'] });

    expect((await handler(event, lambdaContext())).PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
    // No version is a candidate: the bucket's keys are read once, by the replacement's own reads.
    expect(lightsail).toHaveReceivedCommandTimes(GetBucketAccessKeysCommand, 1);
  });
});

describe('when a step of the return fails', () => {
  test('the secret cannot be read: fails naming it, and touches nothing', async () => {
    givenBucket([OLD_KEY_ID]);
    secretsManager.on(GetSecretValueCommand).rejects(refused('no GetSecretValue'));

    expect(await failureOf(handler(rollbackEvent(), lambdaContext()))).toMatch(
      new RegExp(`^Could not read version AWS(CURRENT|PREVIOUS|PENDING) of secret ${SECRET_ARN}: OperationFailureException: no GetSecretValue$`));
    expect(lightsail.calls()).toHaveLength(0);
  });

  test('AWSCURRENT cannot move back: fails naming the version, and deletes nothing', async () => {
    givenBucket([OLD_KEY_ID, FAILED_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'));
    secretsManager.on(UpdateSecretVersionStageCommand).rejects(refused('no UpdateSecretVersionStage'));

    expect(await failureOf(handler(rollbackEvent(), lambdaContext()))).toBe(
      `Could not make version v-previous of secret ${SECRET_ARN} current: OperationFailureException: no UpdateSecretVersionStage`);
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('the failed key cannot be deleted: fails naming it (a retried rollback deletes it)', async () => {
    givenBucket([OLD_KEY_ID, FAILED_KEY_ID]);
    givenSecretVersions(storedValue(FAILED_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'));
    lightsail.on(DeleteBucketAccessKeyCommand).rejects(refused('no DeleteBucketAccessKey'));

    expect(await failureOf(handler(rollbackEvent(), lambdaContext()))).toBe(
      `Could not delete access key ${FAILED_KEY_ID} of Lightsail bucket "${BUCKET}": OperationFailureException: no DeleteBucketAccessKey`);
  });

  test('the renamed secret cannot be read: fails naming it', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID, BUCKET, '1'));
    secretsManager.on(GetSecretValueCommand, { SecretId: OTHER_SECRET_ARN }).rejects(refused('no GetSecretValue'));

    expect(await failureOf(handler(rollbackEvent(OLD_KEY_ID, { SecretArn: OTHER_SECRET_ARN }), lambdaContext()))).toMatch(
      new RegExp(`^Could not read version AWS(CURRENT|PREVIOUS|PENDING) of secret ${OTHER_SECRET_ARN}: `));
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });

  test('the failed properties are checked like the new ones', async () => {
    givenBucket([OLD_KEY_ID]);
    givenSecretVersions(storedValue(OLD_KEY_ID, BUCKET, '1'));
    const event = rollbackEvent();

    expect(await failureOf(handler({ ...event, OldResourceProperties: { ...event.OldResourceProperties, BucketName: '' } }, lambdaContext())))
      .toBe('Property BucketName is required and must be a non-empty string');
  });
});
