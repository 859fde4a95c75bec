import {
  AccessDeniedException,
  CreateBucketAccessKeyCommand,
  GetBucketsCommand,
  LightsailClient,
  LightsailServiceException,
} from '@aws-sdk/client-lightsail';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { AwsEmulator } from '../../../local/emulator';
import { Gates } from '../../../local/emulator/gates';
import { FAKE_CREDENTIALS, failure, lightsailClientFor, secretsManagerClientFor } from './testing';

const BUCKET = 'my-bucket';
const SECRET = 'my/secret';
const TOKEN = '11111111-1111-4111-8111-111111111111';

let emu: AwsEmulator;
let lightsail: LightsailClient;
let secrets: SecretsManagerClient;

beforeAll(async () => {
  emu = await AwsEmulator.start();
  lightsail = lightsailClientFor(emu, { maxAttempts: 1 });
  secrets = secretsManagerClientFor(emu, { maxAttempts: 1 });
});

afterAll(async () => {
  lightsail.destroy();
  secrets.destroy();
  await emu.stop();
});

beforeEach(() => {
  emu.reset();
  emu.createBucket(BUCKET);
  emu.createSecret(SECRET);
});

/** Each call's outcome: 'ok' or the error's name. */
function outcomes(calls: Array<Promise<unknown>>): Promise<string[]> {
  return Promise.all(calls.map((call) => call.then(() => 'ok', (error: Error) => error.name)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('rate limit', () => {
  test('a burst beyond the bucket is answered ThrottlingException (400, awsJson __type), before acting', async () => {
    emu.limitRate('lightsail', { ratePerSecond: 0.1, burst: 3 });

    const results = await outcomes(Array.from({ length: 5 }, () => lightsail.send(new GetBucketsCommand({ bucketName: BUCKET }))));
    const create = await failure(lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET })));

    expect(results.filter((result) => result === 'ok')).toHaveLength(3);
    expect(results.filter((result) => result === 'ThrottlingException')).toHaveLength(2);
    expect(create.name).toBe('ThrottlingException');
    expect(emu.accessKeys(BUCKET)).toEqual([]);
    expect(emu.issuedSecretAccessKeys()).toEqual([]);
    expect(emu.gateCounts('lightsail')).toEqual({ served: 3, throttled: 3, denied: 0 });
    expect(emu.calls().map((call) => call.status).sort()).toEqual([200, 200, 200, 400, 400, 400]);
  });

  test('the SDK sees a throttle as ThrottlingException of the service', async () => {
    emu.limitRate('lightsail', { ratePerSecond: 1, burst: 1 });
    emu.limitRate('secretsmanager', { ratePerSecond: 1, burst: 1 });
    await lightsail.send(new GetBucketsCommand({}));
    await failure(secrets.send(new GetSecretValueCommand({ SecretId: SECRET })));

    const fromLightsail = await failure(lightsail.send(new GetBucketsCommand({})));
    const fromSecrets = await failure(secrets.send(new GetSecretValueCommand({ SecretId: SECRET })));

    expect(fromLightsail).toBeInstanceOf(LightsailServiceException);
    expect(fromLightsail).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    expect(fromSecrets).toBeInstanceOf(SecretsManagerServiceException);
    expect(fromSecrets).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
  });

  test('tokens come back at the rate; a throttled request takes none', async () => {
    emu.limitRate('lightsail', { ratePerSecond: 2, burst: 1 });
    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ok']);
    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ThrottlingException']);

    await sleep(550);

    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ok']);
    expect(emu.gateCounts('lightsail')).toEqual({ served: 2, throttled: 1, denied: 0 });
  });

  test('a limit holds for its service only, and is lifted by undefined and by reset()', async () => {
    emu.limitRate('lightsail', { ratePerSecond: 0.001, burst: 1 });
    await lightsail.send(new GetBucketsCommand({}));
    await secrets.send(new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: TOKEN, SecretString: 'v' }));
    await secrets.send(new GetSecretValueCommand({ SecretId: SECRET }));
    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ThrottlingException']);

    emu.limitRate('lightsail', undefined);
    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ok']);

    emu.limitRate('lightsail', { ratePerSecond: 0.001, burst: 1 });
    await lightsail.send(new GetBucketsCommand({}));
    emu.reset();
    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ok']);
    expect(emu.gateCounts('lightsail')).toEqual({ served: 1, throttled: 0, denied: 0 });
  });

  test('the SDK\'s retries get through a throttle once tokens come back', async () => {
    emu.limitRate('lightsail', { ratePerSecond: 20, burst: 1 });
    const client = lightsailClientFor(emu, { maxAttempts: 5 });
    try {
      await Promise.all([client.send(new GetBucketsCommand({})), client.send(new GetBucketsCommand({}))]);
    } finally {
      client.destroy();
    }
    expect(emu.gateCounts('lightsail')).toEqual(expect.objectContaining({ served: 2 }));
    expect(emu.gateCounts('lightsail').throttled).toBeGreaterThanOrEqual(1);
  });
});

describe('denial', () => {
  test('denied calls get AccessDeniedException (Lightsail 403, Secrets Manager 400), do not act, and pass once it lifts', async () => {
    emu.denyFor('lightsail', 300);
    emu.denyFor('secretsmanager', 300);

    const fromLightsail = await failure(lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET })));
    const fromSecrets = await failure(secrets.send(new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: TOKEN, SecretString: 'v' })));

    expect(fromLightsail).toBeInstanceOf(AccessDeniedException);
    expect(fromLightsail.message).toContain('is not authorized to perform: lightsail:CreateBucketAccessKey');
    expect(fromLightsail.$metadata.httpStatusCode).toBe(403);
    expect(fromSecrets).toBeInstanceOf(SecretsManagerServiceException);
    expect(fromSecrets).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect(fromSecrets.message).toContain(`secretsmanager:PutSecretValue on resource: ${SECRET}`);
    expect(emu.accessKeys(BUCKET)).toEqual([]);
    expect(emu.secretVersions(SECRET)).toEqual([]);

    await sleep(350);

    await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET }));
    await secrets.send(new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: TOKEN, SecretString: 'v' }));
    expect(emu.accessKeys(BUCKET)).toHaveLength(1);
    expect(emu.gateCounts('lightsail')).toEqual({ served: 1, throttled: 0, denied: 1 });
    expect(emu.gateCounts('secretsmanager')).toEqual({ served: 1, throttled: 0, denied: 1 });
  });

  test('a denial of one principal leaves other callers alone', async () => {
    emu.denyFor('lightsail', Infinity, { accessKeyId: 'AKIAHANDLERROLE00001' });
    const denied = lightsailClientFor(emu, { maxAttempts: 1, credentials: { ...FAKE_CREDENTIALS, accessKeyId: 'AKIAHANDLERROLE00001' } });
    try {
      expect((await failure(denied.send(new GetBucketsCommand({})))).name).toBe('AccessDeniedException');
      await lightsail.send(new GetBucketsCommand({}));
    } finally {
      denied.destroy();
    }
    expect(emu.gateCounts('lightsail')).toEqual({ served: 1, throttled: 0, denied: 1 });
  });

  test('an endless denial holds until allow() or reset()', async () => {
    emu.denyFor('lightsail', Infinity);
    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['AccessDeniedException']);
    emu.allow('lightsail');
    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ok']);

    emu.denyFor('lightsail', Infinity);
    emu.reset();
    expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ok']);
  });

  test('a throttle is answered before a denial, and a throttled call is not counted as denied', async () => {
    emu.limitRate('lightsail', { ratePerSecond: 0.001, burst: 1 });
    emu.denyFor('lightsail', Infinity);
    expect(await outcomes([lightsail.send(new GetBucketsCommand({})), lightsail.send(new GetBucketsCommand({}))]))
      .toEqual(expect.arrayContaining(['AccessDeniedException', 'ThrottlingException']));
    expect(emu.gateCounts('lightsail')).toEqual({ served: 0, throttled: 1, denied: 1 });
  });
});

test('a gated request leaves the injected faults queued for the next one', async () => {
  emu.denyFor('lightsail', Infinity);
  emu.injectFault({ operation: 'GetBuckets', kind: 'server' });
  expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['AccessDeniedException']);
  emu.allow('lightsail');
  expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ServiceException']);
  expect(await outcomes([lightsail.send(new GetBucketsCommand({}))])).toEqual(['ok']);
});

describe('Gates', () => {
  test('a token bucket serves its burst at once, then its rate', () => {
    let now = 0;
    const gates = new Gates(() => now);
    gates.limitRate('lightsail', { ratePerSecond: 4, burst: 2 });
    const verdicts = (): unknown[] => [gates.check('lightsail', undefined), gates.check('lightsail', undefined), gates.check('lightsail', undefined)];

    expect(verdicts()).toEqual([undefined, undefined, 'throttling']);
    now = 250;
    expect(verdicts()).toEqual([undefined, 'throttling', 'throttling']);
    now = 10_000;
    // Tokens never pile up beyond the burst.
    expect(verdicts()).toEqual([undefined, undefined, 'throttling']);
    expect(gates.countsOf('lightsail')).toEqual({ served: 5, throttled: 4, denied: 0 });
    expect(gates.countsOf('secretsmanager')).toEqual({ served: 0, throttled: 0, denied: 0 });
  });

  test('a denial ends at its time', () => {
    let now = 0;
    const gates = new Gates(() => now);
    gates.denyFor('secretsmanager', 1000);
    expect(gates.check('secretsmanager', 'AKIA1')).toBe('access-denied');
    now = 999;
    expect(gates.check('secretsmanager', 'AKIA1')).toBe('access-denied');
    now = 1000;
    expect(gates.check('secretsmanager', 'AKIA1')).toBeUndefined();
  });

  test('a denial counted from its first request lasts that long after it, whenever it comes', () => {
    let now = 0;
    const gates = new Gates(() => now);
    gates.denyFor('lightsail', 1000, { fromFirstRequest: true, accessKeyId: 'AKIA1' });
    now = 5000;
    expect(gates.check('lightsail', 'AKIA2')).toBeUndefined();
    expect(gates.check('lightsail', 'AKIA1')).toBe('access-denied');
    now = 5999;
    expect(gates.check('lightsail', 'AKIA1')).toBe('access-denied');
    now = 6000;
    expect(gates.check('lightsail', 'AKIA1')).toBeUndefined();
  });

  test('services denied together lift together, from the first request to either', () => {
    let now = 0;
    const gates = new Gates(() => now);
    gates.denyFor(['secretsmanager', 'lightsail'], 1000, { fromFirstRequest: true });
    now = 300;
    expect(gates.check('secretsmanager', undefined)).toBe('access-denied');
    now = 1299;
    expect(gates.check('lightsail', undefined)).toBe('access-denied');
    now = 1300;
    expect(gates.check('lightsail', undefined)).toBeUndefined();
    expect(gates.check('secretsmanager', undefined)).toBeUndefined();
  });

  test('rejects a malformed limit or duration', () => {
    const gates = new Gates();
    expect(() => gates.limitRate('lightsail', { ratePerSecond: 0, burst: 1 })).toThrow(/ratePerSecond/);
    expect(() => gates.limitRate('lightsail', { ratePerSecond: 5, burst: 0.5 })).toThrow(/burst/);
    expect(() => gates.denyFor('lightsail', 0)).toThrow(/positive/);
  });
});
