/**
 * Issue 14 §2, bucket changes: after each, the cleanup Delete of the old key (old bucket, old secret)
 * runs under the NEW template's policy, and must still delete the key (no key left behind).
 */
import { cleanupPolicySuite } from './cleanup-policy';

jest.setTimeout(90_000);

const suite = cleanupPolicySuite();
const { update } = suite;

const TWO_BUCKETS = { First: 'policy-first-bucket', Second: 'policy-second-bucket' };

test('a key moved to another bucket of the stack: its old key is deleted from the old bucket, which the new policy no longer names for the key', async () => {
  const outcome = await update(
    { buckets: TWO_BUCKETS, keys: [{ id: 'Key', bucket: 'First' }] },
    { buckets: TWO_BUCKETS, keys: [{ id: 'Key', bucket: 'Second' }] },
  );
  expect(suite.emulator.accessKeys('policy-first-bucket')).toEqual([]);
  expect(suite.emulator.accessKeys('policy-second-bucket').map((key) => key.accessKeyId)).toEqual([outcome.updated.Key]);
});

test('the key\'s bucket replaced (a new BucketName): the old key is deleted from the old bucket, named by no resource of the new template', async () => {
  await update(
    { buckets: { Bucket: 'policy-old-bucket' }, keys: [{ id: 'Key', bucket: 'Bucket' }] },
    { buckets: { Bucket: 'policy-new-bucket' }, keys: [{ id: 'Key', bucket: 'Bucket' }] },
  );
  expect(suite.emulator.accessKeys('policy-old-bucket')).toEqual([]);
});

test('the key\'s bucket dropped from the stack (the key now on another bucket of the stack): the old key is deleted from the dropped bucket', async () => {
  await update(
    { buckets: { Dropped: 'policy-dropped-bucket', Kept: 'policy-kept-bucket' }, keys: [{ id: 'Key', bucket: 'Dropped' }] },
    { buckets: { Kept: 'policy-kept-bucket' }, keys: [{ id: 'Key', bucket: 'Kept' }] },
  );
  expect(suite.emulator.accessKeys('policy-dropped-bucket')).toEqual([]);
});

test('the key\'s bucket dropped from the stack (the key now on a bucket made elsewhere): the old key is deleted from the dropped bucket', async () => {
  await update(
    { buckets: { Bucket: 'policy-dropped-bucket' }, keys: [{ id: 'Key', bucket: 'Bucket' }] },
    { keys: [{ id: 'Key', bucketName: 'policy-elsewhere-bucket' }] },
  );
  expect(suite.emulator.accessKeys('policy-dropped-bucket')).toEqual([]);
});

test('a bucket known by name renamed: the old key is deleted from the bucket of the old name', async () => {
  await update(
    { keys: [{ id: 'Key', bucketName: 'policy-name-before' }] },
    { keys: [{ id: 'Key', bucketName: 'policy-name-after' }] },
  );
  expect(suite.emulator.accessKeys('policy-name-before')).toEqual([]);
});

test('a key added: it is created under the new policy, the other key untouched', async () => {
  const outcome = await update(
    { buckets: TWO_BUCKETS, keys: [{ id: 'Key', bucket: 'First' }] },
    { buckets: TWO_BUCKETS, keys: [{ id: 'Key', bucket: 'First' }, { id: 'Added', bucket: 'Second' }] },
  );
  expect(outcome.updated.Key).toBe(outcome.created.Key);
});

test('a key removed: its Delete (cleanup, with its old bucket and secret) runs under a policy that names neither', async () => {
  const outcome = await update(
    { buckets: TWO_BUCKETS, keys: [{ id: 'Key', bucket: 'First' }, { id: 'Removed', bucket: 'Second' }] },
    { buckets: TWO_BUCKETS, keys: [{ id: 'Key', bucket: 'First' }] },
  );
  expect(Object.keys(outcome.cleanups)).toEqual(['Removed']);
  expect(suite.emulator.accessKeys('policy-second-bucket')).toEqual([]);
});
