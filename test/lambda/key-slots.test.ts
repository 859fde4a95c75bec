/**
 * Keys that rotation made: a Delete removes every key of the resource's generation that the secret
 * holds, and a create in a full bucket frees the slot of a key only AWSPREVIOUS (or a stale
 * AWSPENDING) holds. Keys the secret does not hold, and the current key, are never touched.
 */
import { CreateBucketAccessKeyCommand, DeleteBucketAccessKeyCommand } from '@aws-sdk/client-lightsail';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import 'aws-sdk-client-mock-jest';
import { freeSlot } from '../../lambda/key-slots';
import { handler } from '../../lambda/on-event';
import { BUCKET, SECRET_ARN, createEvent, deleteEvent, updateEvent } from './events';
import {
  FOREIGN_KEY_ID, NEW_KEY_ID, OLD_KEY_ID, failureOf, givenBucket, givenSecretVersions, lightsail, secretsManager, storedValue,
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

    await handler(deleteEvent('AKIAFIRSTKEY00000001', { Serial: '1' }));

    expect(deletedKeys()).toEqual(['AKIAFIRSTKEY00000001', OLD_KEY_ID, PENDING_KEY_ID, ROTATED_KEY_ID].sort());
  });

  test('keys without a serial belong to a resource without one', async () => {
    givenBucket([ROTATED_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID));

    await handler(deleteEvent(OLD_KEY_ID));

    expect(deletedKeys()).toEqual([OLD_KEY_ID, ROTATED_KEY_ID].sort());
  });

  test('the clean-up of an old generation leaves the new generation\'s keys alone', async () => {
    givenBucket([ROTATED_KEY_ID, NEW_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID, BUCKET, '2'), storedValue(ROTATED_KEY_ID, BUCKET, '1'));

    await handler(deleteEvent(OLD_KEY_ID, { Serial: '1' }));

    expect(deletedKeys()).toEqual([OLD_KEY_ID, ROTATED_KEY_ID].sort());
  });

  test('the clean-up after a move leaves the keys of the new bucket alone', async () => {
    givenBucket([NEW_KEY_ID]);
    givenSecretVersions(storedValue(NEW_KEY_ID, BUCKET), storedValue(ROTATED_KEY_ID, 'old-bucket'));

    await handler(deleteEvent(OLD_KEY_ID, { BucketName: 'old-bucket' }));

    expect(lightsail.commandCalls(DeleteBucketAccessKeyCommand).map((call) => call.args[0].input))
      .toEqual([{ bucketName: 'old-bucket', accessKeyId: OLD_KEY_ID }, { bucketName: 'old-bucket', accessKeyId: ROTATED_KEY_ID }]);
  });
});

describe('freeSlot', () => {
  test('never frees the slot of the version being rotated in', async () => {
    givenBucket([ROTATED_KEY_ID, PENDING_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID), undefined, storedValue(PENDING_KEY_ID));

    const message = await failureOf(freeSlot(BUCKET, [ROTATED_KEY_ID, PENDING_KEY_ID], SECRET_ARN, 'v-pending'));

    expect(message).toContain('Lightsail allows 2 keys per bucket');
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
  });
});

describe('a create in a full bucket', () => {
  test('a replacement deletes the key only AWSPREVIOUS holds, then creates the new key', async () => {
    givenBucket([ROTATED_KEY_ID, OLD_KEY_ID]);
    givenSecretVersions(storedValue(ROTATED_KEY_ID, BUCKET, '1'), storedValue(OLD_KEY_ID, BUCKET, '1'));

    const result = await handler(updateEvent(ROTATED_KEY_ID, { Serial: '2' }, { Serial: '1' }));

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

    await handler(updateEvent(ROTATED_KEY_ID, { Serial: '2' }, { Serial: '1' }));

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

    const message = await failureOf(handler(createEvent()));

    expect(message).toContain('Lightsail allows 2 keys per bucket');
    expect(lightsail).not.toHaveReceivedCommand(DeleteBucketAccessKeyCommand);
    expect(lightsail).not.toHaveReceivedCommand(CreateBucketAccessKeyCommand);
  });
});
