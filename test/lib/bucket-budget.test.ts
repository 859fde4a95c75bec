/**
 * Lightsail's two keys per bucket, checked at synth across the whole app: an error from three keys
 * on, a warning when two keys share a bucket and one needs a free slot (serial, rotation), and a
 * warning on the account-wide IAM scope of a key given by `bucketName`.
 */
import { App, Annotations, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations as AssemblyAnnotations, Match } from 'aws-cdk-lib/assertions';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey, LightsailBucketAccessKeyProps } from '../../lib';
import { ENV } from './stack-fixture';

// The documented ids, spelled out: users acknowledge them by these strings.
const NO_FREE_SLOT = 'cdk-lightsail-bucket-access-key:noFreeSlot';
const BUCKET_NAME_SCOPE = 'cdk-lightsail-bucket-access-key:bucketNameScope';

test('the warning ids are public on the construct', () => {
  expect(LightsailBucketAccessKey.NO_FREE_SLOT_WARNING).toBe(NO_FREE_SLOT);
  expect(LightsailBucketAccessKey.BUCKET_NAME_SCOPE_WARNING).toBe(BUCKET_NAME_SCOPE);
});
const ROTATION = { automaticallyAfter: Duration.days(30) };

interface Warning {
  readonly path: string;
  readonly id: string;
}

/** The acknowledgeable warnings of this library in the stack's synthesized metadata, as (key path, id). */
function budgetWarnings(stack: Stack): Warning[] {
  return AssemblyAnnotations.fromStack(stack).findWarning('*', Match.anyValue())
    .flatMap((message) => {
      const id = /\[ack: (cdk-lightsail-bucket-access-key:[A-Za-z]+)\]$/.exec(String(message.entry.data))?.[1];
      return id ? [{ path: message.id, id }] : [];
    })
    .sort((a, b) => `${a.path} ${a.id}`.localeCompare(`${b.path} ${b.id}`));
}

function warningText(stack: Stack, path: string, id: string): string {
  const found = AssemblyAnnotations.fromStack(stack).findWarning(path, Match.anyValue()).map((message) => String(message.entry.data));
  return found.find((text) => text.endsWith(`[ack: ${id}]`)) ?? '';
}

/** The validation errors of a synthesis, one message per key path; none when it succeeds. */
function synthErrors(app: App): string[] {
  try {
    app.synth();
    return [];
  } catch (error) {
    return String((error as Error).message).split('\n').filter((line) => line.trim().startsWith('[')).map((line) => line.trim());
  }
}

function newApp(): App {
  return new App({ builtinCloudFormationValidation: false } as never);
}

function bucketOf(stack: Stack, name: string): lightsail.CfnBucket {
  return new lightsail.CfnBucket(stack, `Bucket-${name}`, { bucketName: name, bundleId: 'small_1_0' });
}

function key(stack: Stack, id: string, props: LightsailBucketAccessKeyProps): LightsailBucketAccessKey {
  return new LightsailBucketAccessKey(stack, id, props);
}

describe('keys per bucket', () => {
  test('two keys of one bucket without serial or rotation: fine, no warning', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const bucket = bucketOf(stack, 'shared-bucket');
    key(stack, 'A', { bucket });
    key(stack, 'B', { bucket });
    expect(synthErrors(app)).toEqual([]);
    expect(budgetWarnings(stack)).toEqual([]);
  });

  test('three keys of one bucket: an error on each, naming the bucket, every key and the limit', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const bucket = bucketOf(stack, 'shared-bucket');
    ['A', 'B', 'C'].forEach((id) => key(stack, id, { bucket }));
    const message = 'Lightsail bucket "shared-bucket" would get 3 access keys from this app (S/A, S/B, S/C), but Lightsail allows 2 keys per bucket';
    const errors = synthErrors(app);
    expect(errors).toHaveLength(3);
    for (const path of ['S/A', 'S/B', 'S/C']) {
      expect(errors.find((error) => error.startsWith(`[${path}]`))).toContain(message);
    }
  });

  test('four keys of one bucket: an error on all four', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    ['A', 'B', 'C', 'D'].forEach((id) => key(stack, id, { bucketName: 'made-elsewhere' }));
    const errors = synthErrors(app);
    expect(errors.map((error) => error.slice(0, error.indexOf(']') + 1))).toEqual(['[S/A]', '[S/B]', '[S/C]', '[S/D]']);
    errors.forEach((error) => expect(error).toContain('would get 4 access keys from this app (S/A, S/B, S/C, S/D)'));
  });

  test('keys of different buckets do not add up', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const [first, second] = [bucketOf(stack, 'first-bucket'), bucketOf(stack, 'second-bucket')];
    key(stack, 'A', { bucket: first, rotation: ROTATION });
    key(stack, 'B', { bucket: second, serial: 1 });
    key(stack, 'C', { bucketName: 'third-bucket', rotation: ROTATION });
    key(stack, 'D', { bucketName: 'fourth-bucket', serial: 2 });
    key(stack, 'E', { bucketName: 'fourth-bucket-2' });
    expect(synthErrors(app)).toEqual([]);
    expect(budgetWarnings(stack).filter((warning) => warning.id === NO_FREE_SLOT)).toEqual([]);
  });

  test('the same literal bucketName in two stacks of one app counts as one bucket', () => {
    const app = newApp();
    const one = new Stack(app, 'One', { env: ENV });
    const two = new Stack(app, 'Two', { env: ENV });
    key(one, 'A', { bucketName: 'made-elsewhere' });
    key(two, 'B', { bucketName: 'made-elsewhere' });
    key(two, 'C', { bucketName: 'made-elsewhere' });
    expect(synthErrors(app).map((error) => error.slice(0, error.indexOf(']') + 1))).toEqual(['[One/A]', '[Two/B]', '[Two/C]']);
  });

  test('a bucket of one stack, used by keys in another stack, counts as one bucket', () => {
    const app = newApp();
    const storage = new Stack(app, 'Storage', { env: ENV });
    const bucket = bucketOf(storage, 'shared-bucket');
    key(storage, 'A', { bucket });
    const consumer = new Stack(app, 'Consumer', { env: ENV });
    key(consumer, 'B', { bucket });
    key(consumer, 'C', { bucket });
    expect(synthErrors(app)).toHaveLength(3);
  });

  test('a key by bucket and a key by that bucket\'s name count together', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const bucket = bucketOf(stack, 'shared-bucket');
    key(stack, 'A', { bucket, rotation: ROTATION });
    key(stack, 'B', { bucketName: bucket.bucketName });
    expect(budgetWarnings(stack)).toEqual([
      { path: '/S/A', id: NO_FREE_SLOT },
      { path: '/S/B', id: BUCKET_NAME_SCOPE },
    ]);
  });

  test('a bucket name from a CfnParameter: the same parameter is one bucket, two parameters are never assumed to be one', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const first = new CfnParameter(stack, 'FirstBucket').valueAsString;
    const second = new CfnParameter(stack, 'SecondBucket').valueAsString;
    ['A', 'B', 'C'].forEach((id) => key(stack, id, { bucketName: first }));
    key(stack, 'D', { bucketName: second });
    const errors = synthErrors(app);
    expect(errors.map((error) => error.slice(0, error.indexOf(']') + 1))).toEqual(['[S/A]', '[S/B]', '[S/C]']);
    expect(errors[0]).toContain('Lightsail bucket named by {"Ref":"FirstBucket"} would get 3 access keys');
  });
});

describe('two keys of one bucket when one needs a free slot', () => {
  test.each([
    ['rotation', { rotation: ROTATION }],
    ['serial', { serial: 0 }],
  ])('with %s: a warning on that key only, saying why it fails at deploy time and what to do instead', (_name, extra) => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const bucket = bucketOf(stack, 'shared-bucket');
    key(stack, 'Rotating', { bucket, ...extra });
    key(stack, 'Plain', { bucket });
    expect(synthErrors(app)).toEqual([]);
    expect(budgetWarnings(stack)).toEqual([{ path: '/S/Rotating', id: NO_FREE_SLOT }]);
    const text = warningText(stack, '/S/Rotating', NO_FREE_SLOT);
    expect(text).toContain('Lightsail bucket "shared-bucket" also holds the key S/Plain');
    expect(text).toContain('needs a free slot and will fail at deploy time');
    expect(text).toContain('Instead, share one key (grantRead)');
  });

  test('both with rotation: a warning on each', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const bucket = bucketOf(stack, 'shared-bucket');
    key(stack, 'A', { bucket, rotation: ROTATION });
    key(stack, 'B', { bucket, serial: 3, rotation: ROTATION });
    expect(budgetWarnings(stack)).toEqual([{ path: '/S/A', id: NO_FREE_SLOT }, { path: '/S/B', id: NO_FREE_SLOT }]);
  });

  test('one key with rotation alone on its bucket: no warning (it alternates between the two slots)', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    key(stack, 'A', { bucket: bucketOf(stack, 'own-bucket'), rotation: ROTATION, serial: 1 });
    expect(budgetWarnings(stack)).toEqual([]);
  });

  test('the warning is acknowledged on the key, after the key was made', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const bucket = bucketOf(stack, 'shared-bucket');
    const rotating = key(stack, 'Rotating', { bucket, rotation: ROTATION });
    key(stack, 'Plain', { bucket });
    Annotations.of(rotating).acknowledgeWarning(NO_FREE_SLOT, 'The plain key is deleted before the first rotation.');
    expect(budgetWarnings(stack)).toEqual([]);
  });

  test('the warning is acknowledged on the stack, before the keys were made', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    Annotations.of(stack).acknowledgeWarning(NO_FREE_SLOT, 'Rotation is switched off before the second key is added.');
    const bucket = bucketOf(stack, 'shared-bucket');
    key(stack, 'Rotating', { bucket, rotation: ROTATION });
    key(stack, 'Plain', { bucket });
    expect(budgetWarnings(stack)).toEqual([]);
  });
});

describe('a key given by bucketName', () => {
  test('warns that IAM reaches every bucket of the account and region, and how to avoid it', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    key(stack, 'ByName', { bucketName: 'made-elsewhere' });
    key(stack, 'ByBucket', { bucket: bucketOf(stack, 'app-bucket') });
    expect(budgetWarnings(stack)).toEqual([{ path: '/S/ByName', id: BUCKET_NAME_SCOPE }]);
    const text = warningText(stack, '/S/ByName', BUCKET_NAME_SCOPE);
    expect(text).toContain('every Lightsail bucket in the account and region (arn:<partition>:lightsail:<region>:<account>:Bucket/*)');
    expect(text).toContain('pass "bucket" instead');
  });

  test('the scope warning is acknowledged separately from the slot warning', () => {
    const app = newApp();
    const stack = new Stack(app, 'S', { env: ENV });
    const first = key(stack, 'First', { bucketName: 'made-elsewhere', serial: 1 });
    const second = key(stack, 'Second', { bucketName: 'made-elsewhere' });
    Annotations.of(first).acknowledgeWarning(BUCKET_NAME_SCOPE, 'The account holds no other Lightsail bucket.');
    Annotations.of(second).acknowledgeWarning(BUCKET_NAME_SCOPE, 'The account holds no other Lightsail bucket.');
    expect(budgetWarnings(stack)).toEqual([{ path: '/S/First', id: NO_FREE_SLOT }]);
  });
});
