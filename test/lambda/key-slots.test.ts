/**
 * Keys that rotation made: a Delete removes every key of the resource's generation that the secret
 * holds, and a create in a full bucket frees the slot of a key only AWSPREVIOUS (or a stale
 * AWSPENDING) holds. Keys the secret does not hold, and the current key, are never touched.
 */
import { CreateBucketAccessKeyCommand, DeleteBucketAccessKeyCommand } from '@aws-sdk/client-lightsail';
import { GetSecretValueCommand, PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { freeSlot, heldVersions } from '../../lambda/key-slots';
import { handler } from '../../lambda/on-event';
import { BUCKET, SECRET_ARN, createEvent, deleteEvent, updateEvent } from './events';
import {
  FOREIGN_KEY_ID, NEW_KEY_ID, OLD_KEY_ID, failureOf, givenBucket, givenSecretVersions, lightsail, output, secretsManager, storedValue,
  inEvent, lambdaContext,
} from './fixtures';

const ROTATED_KEY_ID = 'AKIAROTATED000000001';
const PENDING_KEY_ID = 'AKIAPENDING000000001';

function deletedKeys(): string[] {
  return lightsail.commandCalls(DeleteBucketAccessKeyCommand).map((call) => call.args[0].input.accessKeyId!).sort();
}

describe('Delete after rotations', () => {
  test('deletes the stale physical id and every key of its generation: current, previous, pending', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '1'), storedValue(OLD_KEY_ID, BUCKET, '1'), storedValue(PENDING_KEY_ID, BUCKET, '1'));

    await handler(deleteEvent('AKIAFIRSTKEY00000001', { Serial: '1' }), lambdaContext());

    expect(deletedKeys()).toEqual(['AKIAFIRSTKEY00000001', OLD_KEY_ID, PENDING_KEY_ID, ROTATED_KEY_ID].sort());
  });

  test('keys without a serial belong to a resource without one', async () => {
    givenBucket([ROTATED_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID));

    await handler(deleteEvent(OLD_KEY_ID), lambdaContext());

    expect(deletedKeys()).toEqual([OLD_KEY_ID, ROTATED_KEY_ID].sort());
  });

  test('the clean-up of an old generation leaves the new generation\'s keys alone', async () => {
    givenBucket([ROTATED_KEY_ID, NEW_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID, BUCKET, '2'), storedValue(ROTATED_KEY_ID, BUCKET, '1'));

    await handler(deleteEvent(OLD_KEY_ID, { Serial: '1' }), lambdaContext());

    expect(deletedKeys()).toEqual([OLD_KEY_ID, ROTATED_KEY_ID].sort());
  });

  test('the clean-up after a move leaves the keys of the new bucket alone', async () => {
    givenBucket([NEW_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID, BUCKET), storedValue(ROTATED_KEY_ID, 'old-bucket'));

    await handler(deleteEvent(OLD_KEY_ID, { BucketName: 'old-bucket' }), lambdaContext());

    expect(lightsail.commandCalls(DeleteBucketAccessKeyCommand).map((call) => call.args[0].input))
      .toEqual([{ bucketName: 'old-bucket', accessKeyId: OLD_KEY_ID }, { bucketName: 'old-bucket', accessKeyId: ROTATED_KEY_ID }]);
  });
});

describe('freeSlot', () => {
  test('never frees the slot of the version being rotated in', async () => {
    givenBucket([ROTATED_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), undefined, storedValue(PENDING_KEY_ID));

    const message = await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, PENDING_KEY_ID], SECRET_ARN, { keepVersionId: 'v-pending' })));

    expect(message).toContain('Lightsail allows 2 keys per bucket');
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });
});

describe('a create in a full bucket', () => {
  test('a replacement deletes the key only AWSPREVIOUS holds, then creates the new key', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '1'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    const result = await handler(updateEvent(ROTATED_KEY_ID, { Serial: '2' }, { Serial: '1' }), lambdaContext());

    expect(result.PhysicalResourceId).toBe(NEW_KEY_ID);
    expect(deletedKeys()).toEqual([OLD_KEY_ID]);
    const freed = lightsail.commandCalls(DeleteBucketAccessKeyCommand)[0];
    expect(freed.calledBefore(lightsail.commandCalls(CreateBucketAccessKeyCommand)[0])).toBe(true);
    expect(JSON.parse(secretsManager.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString!)).toEqual(
      expect.objectContaining({ accessKeyId: NEW_KEY_ID, serial: '2' }));
  });

  test('a stale AWSPENDING key of a failed rotation also makes room', async () => {
    givenBucket([ROTATED_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '1'), undefined, storedValue(PENDING_KEY_ID, BUCKET, '1'));

    await handler(updateEvent(ROTATED_KEY_ID, { Serial: '2' }, { Serial: '1' }), lambdaContext());

    expect(deletedKeys()).toEqual([PENDING_KEY_ID]);
  });

  test.each([
    ['someone else\'s key', [ROTATED_KEY_ID, FOREIGN_KEY_ID], () => givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(OLD_KEY_ID))],
    ['the current key, even when AWSPREVIOUS names it too', [ROTATED_KEY_ID, FOREIGN_KEY_ID],
      () => givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(ROTATED_KEY_ID))],
    ['a key of another bucket', [ROTATED_KEY_ID, FOREIGN_KEY_ID],
      () => givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(FOREIGN_KEY_ID, 'other-bucket'))],
    ['anything, when the secret is empty', [OLD_KEY_ID, FOREIGN_KEY_ID], () => givenSecretVersions()],
  ])('never deletes %s: the create fails naming the limit', async (_name, keys, arrange) => {
    givenBucket(keys);
    arrange();

    const message = await failureOf(handler(createEvent(), lambdaContext()));

    expect(message).toContain('Lightsail allows 2 keys per bucket');
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });
});

describe('freeSlot bookkeeping', () => {
  test('a bucket with room is returned as it is, without reading the secret', async () => {
    givenBucket([ROTATED_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(OLD_KEY_ID));

    expect(await inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID], SECRET_ARN))).toEqual([ROTATED_KEY_ID]);
    expect(await inEvent(() => freeSlot(BUCKET, [], SECRET_ARN))).toEqual([]);
    expect(secretsManager.calls()).toHaveLength(0);
    expect(lightsail.calls()).toHaveLength(0);
    expect(output).toEqual([]);
  });

  test('returns the keys left after freeing one slot, and logs the key, its stage and its bucket', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(OLD_KEY_ID));

    expect(await inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID], SECRET_ARN))).toEqual([ROTATED_KEY_ID]);
    expect(deletedKeys()).toEqual([OLD_KEY_ID]);
    expect(output.map((line) => JSON.parse(line) as unknown)).toEqual([
      { step: 'slot-freed', bucketName: BUCKET, accessKeyId: OLD_KEY_ID, stage: 'AWSPREVIOUS' },
    ]);
  });

  test('frees one slot only, even when AWSPREVIOUS and a stale AWSPENDING both hold spare keys', async () => {
    givenBucket([OLD_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(OLD_KEY_ID), storedValue(PENDING_KEY_ID));

    expect(await inEvent(() => freeSlot(BUCKET, [OLD_KEY_ID, PENDING_KEY_ID], SECRET_ARN))).toEqual([PENDING_KEY_ID]);
    expect(deletedKeys()).toEqual([OLD_KEY_ID]);
  });

  test('keeps freeing while the bucket is over the limit (a third key that Lightsail accepted after all)', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(OLD_KEY_ID), storedValue(PENDING_KEY_ID));

    expect(await inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID, PENDING_KEY_ID], SECRET_ARN))).toEqual([ROTATED_KEY_ID]);
    expect(deletedKeys()).toEqual([OLD_KEY_ID, PENDING_KEY_ID].sort());
  });

  test('does not change the caller\'s list of keys', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(OLD_KEY_ID));
    const keys = [ROTATED_KEY_ID, OLD_KEY_ID];

    await inEvent(() => freeSlot(BUCKET, keys, SECRET_ARN));

    expect(keys).toEqual([ROTATED_KEY_ID, OLD_KEY_ID]);
  });

  test('the bucket stays full: the error names the bucket, the count, the keys and the limit', async () => {
    givenBucket([ROTATED_KEY_ID, FOREIGN_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID));

    expect(await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, FOREIGN_KEY_ID], SECRET_ARN)))).toBe(
      `Lightsail bucket "${BUCKET}" already has 2 access keys (${ROTATED_KEY_ID}, ${FOREIGN_KEY_ID}); ` +
      'Lightsail allows 2 keys per bucket. Delete a key that is no longer used, then deploy again.');
    expect(output).toEqual([]);
  });

  test('a key that only a version without a current one holds can go: an empty AWSCURRENT protects nothing', async () => {
    givenBucket([OLD_KEY_ID, FOREIGN_KEY_ID]);
    givenSecretVersions(undefined, storedValue(OLD_KEY_ID));

    expect(await inEvent(() => freeSlot(BUCKET, [OLD_KEY_ID, FOREIGN_KEY_ID], SECRET_ARN))).toEqual([FOREIGN_KEY_ID]);
    expect(deletedKeys()).toEqual([OLD_KEY_ID]);
  });

  test('a stale AWSPENDING of another rotation goes even while a rotation is being created', async () => {
    givenBucket([ROTATED_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), undefined, storedValue(PENDING_KEY_ID));

    expect(await inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, PENDING_KEY_ID], SECRET_ARN, { keepVersionId: 'v-another-rotation' }))).toEqual([ROTATED_KEY_ID]);
    expect(deletedKeys()).toEqual([PENDING_KEY_ID]);
  });
});

describe('heldVersions', () => {
  test('reads the three stages and keeps those that hold a key, with their stage', async () => {
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '2'), 'edited by hand', storedValue(PENDING_KEY_ID));

    expect(await inEvent(() => heldVersions(SECRET_ARN))).toEqual([
      { stage: 'AWSCURRENT', versionId: 'v-current', accessKeyId: ROTATED_KEY_ID, bucketName: BUCKET, serial: '2' },
      { stage: 'AWSPENDING', versionId: 'v-pending', accessKeyId: PENDING_KEY_ID, bucketName: BUCKET, serial: undefined },
    ]);
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.VersionStage).sort())
      .toEqual(['AWSCURRENT', 'AWSPENDING', 'AWSPREVIOUS']);
  });

  test('a value without an access key id holds no key', async () => {
    givenSecretVersions(JSON.stringify({ bucketName: BUCKET, accessKeyId: '' }), JSON.stringify({ accessKeyId: 42, bucketName: BUCKET }));

    expect(await inEvent(() => heldVersions(SECRET_ARN))).toEqual([]);
  });
});

describe('freeSlot rules', () => {
  const SERIAL_2 = { BucketName: BUCKET, Serial: '2' };

  test('with a generation, a key of another generation is never deleted: the error says it is kept for a rollback', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    expect(await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID], SECRET_ARN, { generation: SERIAL_2 })))).toBe(
      `Lightsail bucket "${BUCKET}" is full, and the key that could make room, ${OLD_KEY_ID} (AWSPREVIOUS, serial 1), belongs to ` +
      'another generation than the current key (serial 2): it is kept for a possible rollback of the deployment that changed ' +
      'the serial, and goes when that deployment deletes it. Secrets Manager retries the rotation later.');
    expect(deletedKeys()).toEqual([]);
  });

  test('keys without a serial are named so', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET), storedValue(OLD_KEY_ID, BUCKET, '1'));

    expect(await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID], SECRET_ARN, { generation: { BucketName: BUCKET } }))))
      .toContain(`${OLD_KEY_ID} (AWSPREVIOUS, serial 1), belongs to another generation than the current key (serial none)`);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '1'), storedValue(OLD_KEY_ID, BUCKET));
    expect(await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID], SECRET_ARN, { generation: { BucketName: BUCKET, Serial: '1' } }))))
      .toContain(`${OLD_KEY_ID} (AWSPREVIOUS, serial none)`);
  });

  test('with a generation, a key of that generation still makes room', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '2'));

    expect(await inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID], SECRET_ARN, { generation: SERIAL_2 }))).toEqual([ROTATED_KEY_ID]);
    expect(deletedKeys()).toEqual([OLD_KEY_ID]);
  });

  test('two keys kept for a rollback are both named', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '2'), storedValue(OLD_KEY_ID, BUCKET, '1'), storedValue(PENDING_KEY_ID, BUCKET, '1'));

    expect(await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID, PENDING_KEY_ID], SECRET_ARN, { generation: SERIAL_2 }))))
      .toContain(`the key that could make room, ${OLD_KEY_ID} (AWSPREVIOUS, serial 1), ${PENDING_KEY_ID} (AWSPENDING, serial 1), belongs`);
  });

  test('without a generation, a bucket that stays full after freeing what it could is a full bucket', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID, FOREIGN_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(OLD_KEY_ID));

    expect(await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID, FOREIGN_KEY_ID], SECRET_ARN)))).toBe(
      `Lightsail bucket "${BUCKET}" already has 2 access keys (${ROTATED_KEY_ID}, ${FOREIGN_KEY_ID}); ` +
      'Lightsail allows 2 keys per bucket. Delete a key that is no longer used, then deploy again.');
    expect(deletedKeys()).toEqual([OLD_KEY_ID]);
  });

  test('a bucket full with a foreign key is a full bucket, whatever the generation', async () => {
    givenBucket([ROTATED_KEY_ID, FOREIGN_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '2'));

    expect(await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, FOREIGN_KEY_ID], SECRET_ARN, { generation: SERIAL_2 }))))
      .toContain('Lightsail allows 2 keys per bucket');
  });

  test('deleting the key of an AWSPENDING version also takes the label off it', async () => {
    givenBucket([ROTATED_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), undefined, storedValue(PENDING_KEY_ID));

    await inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, PENDING_KEY_ID], SECRET_ARN));

    expect(secretsManager).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 1);
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)[0].args[0].input).toEqual({
      SecretId: SECRET_ARN, VersionStage: 'AWSPENDING', RemoveFromVersionId: 'v-pending',
    });
    expect(lightsail.commandCalls(DeleteBucketAccessKeyCommand)[0].calledBefore(secretsManager.commandCalls(UpdateSecretVersionStageCommand)[0])).toBe(true);
  });

  test('deleting the key of an AWSPREVIOUS version leaves the labels alone', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), storedValue(OLD_KEY_ID));

    await inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, OLD_KEY_ID], SECRET_ARN));

    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
  });

  test('fails naming the version when the AWSPENDING label cannot be taken off', async () => {
    givenBucket([ROTATED_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), undefined, storedValue(PENDING_KEY_ID));
    secretsManager.on(UpdateSecretVersionStageCommand).rejects(new Error('no UpdateSecretVersionStage'));

    expect(await failureOf(inEvent(() => freeSlot(BUCKET, [ROTATED_KEY_ID, PENDING_KEY_ID], SECRET_ARN)))).toBe(
      `Could not remove AWSPENDING from version v-pending of secret ${SECRET_ARN}: no UpdateSecretVersionStage`);
  });
});
