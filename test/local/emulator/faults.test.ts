import {
  AccessDeniedException,
  CreateBucketAccessKeyCommand,
  GetBucketAccessKeysCommand,
  GetBucketsCommand,
  LightsailClient,
  LightsailServiceException,
  ServiceException,
} from '@aws-sdk/client-lightsail';
import {
  GetSecretValueCommand,
  InternalServiceError,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { AwsEmulator } from '../../../local/emulator';
import { failure, lightsailClientFor, secretsManagerClientFor } from './testing';

const BUCKET = 'my-bucket';
const SECRET = 'my/secret';
const TOKEN = '11111111-1111-4111-8111-111111111111';
/** Makes a hanging request fail fast. In this SDK, requestTimeout alone only logs a warning. */
const TIMEOUT_200MS = { requestTimeout: 200, throwOnRequestTimeout: true };

let emu: AwsEmulator;
let clients: Array<LightsailClient | SecretsManagerClient>;

function lightsail(config: ConstructorParameters<typeof LightsailClient>[0] = {}): LightsailClient {
  const client = lightsailClientFor(emu, config);
  clients.push(client);
  return client;
}

function secrets(config: ConstructorParameters<typeof SecretsManagerClient>[0] = {}): SecretsManagerClient {
  const client = secretsManagerClientFor(emu, config);
  clients.push(client);
  return client;
}

function statuses(): number[] {
  return emu.calls().map((call) => call.status);
}

beforeAll(async () => {
  emu = await AwsEmulator.start();
});

afterAll(async () => {
  await emu.stop();
});

beforeEach(() => {
  emu.reset();
  emu.createBucket(BUCKET);
  emu.createSecret(SECRET);
  clients = [];
});

afterEach(() => {
  jest.restoreAllMocks();
  clients.forEach((client) => client.destroy());
});

describe('faults', () => {
  test('throttling is retried by the SDK as throttling: two throttles, then the third attempt succeeds', async () => {
    // Fixes the backoff jitter: throttling retries then wait 0.1 x 1000 ms, then 0.1 x 2000 ms
    // (other retries would wait 0.1 x 50 ms, then 0.1 x 100 ms).
    jest.spyOn(Math, 'random').mockReturnValue(0.1);
    emu.injectFault({ operation: 'GetBuckets', kind: 'throttling', times: 2 });
    const started = Date.now();
    const { buckets } = await lightsail({ maxAttempts: 3 }).send(new GetBucketsCommand({ bucketName: BUCKET }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(buckets?.[0].name).toBe(BUCKET);
    const attempt = { service: 'lightsail', operation: 'GetBuckets', target: BUCKET };
    expect(emu.calls()).toEqual([{ ...attempt, status: 400 }, { ...attempt, status: 400 }, { ...attempt, status: 200 }]);
  });

  test('a throttle the SDK gives up on is a 400 ThrottlingException', async () => {
    emu.injectFault({ operation: 'GetSecretValue', kind: 'throttling' });
    emu.injectFault({ operation: 'GetBucketAccessKeys', kind: 'throttling' });
    const fromSecrets = await failure(secrets({ maxAttempts: 1 }).send(new GetSecretValueCommand({ SecretId: SECRET })));
    expect(fromSecrets).toBeInstanceOf(SecretsManagerServiceException);
    expect(fromSecrets).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const fromLightsail = await failure(lightsail({ maxAttempts: 1 }).send(new GetBucketAccessKeysCommand({ bucketName: BUCKET })));
    expect(fromLightsail).toBeInstanceOf(LightsailServiceException);
    expect(fromLightsail).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  });

  test('server faults are 500 ServiceException / InternalServiceError, and retried', async () => {
    emu.injectFault({ operation: 'GetBuckets', kind: 'server' });
    emu.injectFault({ operation: 'GetSecretValue', kind: 'server' });
    const fromLightsail = await failure(lightsail({ maxAttempts: 1 }).send(new GetBucketsCommand({})));
    expect(fromLightsail).toBeInstanceOf(ServiceException);
    expect(fromLightsail.$metadata.httpStatusCode).toBe(500);
    const fromSecrets = await failure(secrets({ maxAttempts: 1 }).send(new GetSecretValueCommand({ SecretId: SECRET })));
    expect(fromSecrets).toBeInstanceOf(InternalServiceError);
    expect(fromSecrets.$metadata.httpStatusCode).toBe(500);

    emu.injectFault({ operation: 'GetBuckets', kind: 'server' });
    await lightsail({ maxAttempts: 2 }).send(new GetBucketsCommand({}));
    expect(statuses()).toEqual([500, 500, 500, 200]);
  });

  test('access denied is 403 from Lightsail and 400 from Secrets Manager, and not retried', async () => {
    emu.injectFault({ operation: 'CreateBucketAccessKey', kind: 'access-denied' });
    emu.injectFault({ operation: 'GetSecretValue', kind: 'access-denied' });
    const fromLightsail = await failure(lightsail({ maxAttempts: 3 }).send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET })));
    expect(fromLightsail).toBeInstanceOf(AccessDeniedException);
    expect(fromLightsail.message).toContain('lightsail:CreateBucketAccessKey');
    expect(fromLightsail.$metadata.httpStatusCode).toBe(403);
    const fromSecrets = await failure(secrets({ maxAttempts: 3 }).send(new GetSecretValueCommand({ SecretId: SECRET })));
    expect(fromSecrets).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect(statuses()).toEqual([403, 400]);
    expect(emu.accessKeys(BUCKET)).toEqual([]);
  });

  test('faults of one operation are consumed in order; reset() forgets them', async () => {
    emu.injectFault({ operation: 'GetSecretValue', kind: 'throttling' });
    emu.injectFault({ operation: 'GetSecretValue', kind: 'access-denied' });
    emu.injectFault({ operation: 'PutSecretValue', kind: 'server' });
    const client = secrets({ maxAttempts: 1 });
    expect((await failure(client.send(new GetSecretValueCommand({ SecretId: SECRET })))).name).toBe('ThrottlingException');
    expect((await failure(client.send(new GetSecretValueCommand({ SecretId: SECRET })))).name).toBe('AccessDeniedException');
    expect(await failure(client.send(new GetSecretValueCommand({ SecretId: SECRET })))).toBeInstanceOf(ResourceNotFoundException);
    emu.reset();
    emu.createSecret(SECRET);
    await client.send(new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: TOKEN, SecretString: 'value' }));
    expect(emu.calls()).toEqual([{ service: 'secretsmanager', operation: 'PutSecretValue', status: 200, target: SECRET }]);
  });

  test('afterEffect: the version is stored but the answer is lost; the retry with the same token is a no-op', async () => {
    emu.injectFault({ operation: 'PutSecretValue', kind: 'server', afterEffect: true, times: 2 });
    const put = new PutSecretValueCommand({ SecretId: SECRET, ClientRequestToken: TOKEN, SecretString: 'value' });
    expect(await failure(secrets({ maxAttempts: 1 }).send(put))).toBeInstanceOf(InternalServiceError);
    expect(emu.currentSecretValue(SECRET)).toBe('value');
    const retried = await secrets({ maxAttempts: 2 }).send(put);
    expect(retried).toMatchObject({ VersionId: TOKEN, VersionStages: ['AWSCURRENT'] });
    expect(emu.secretVersions(SECRET)).toEqual([{ versionId: TOKEN, stages: ['AWSCURRENT'], secretString: 'value' }]);
    expect(statuses()).toEqual([500, 500, 200]);
  });

  test('afterEffect: a key created behind a lost answer still exists, and its secret was issued', async () => {
    emu.injectFault({ operation: 'CreateBucketAccessKey', kind: 'throttling', afterEffect: true });
    await failure(lightsail({ maxAttempts: 1 }).send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET })));
    expect(emu.accessKeys(BUCKET)).toHaveLength(1);
    expect(emu.issuedSecretAccessKeys()).toHaveLength(1);
  });

  test('hang: the request is never answered, so the client times out (and retries)', async () => {
    emu.injectFault({ operation: 'GetBucketAccessKeys', kind: 'hang' });
    const client = lightsail({ maxAttempts: 1, requestHandler: TIMEOUT_200MS });
    const error = await failure(client.send(new GetBucketAccessKeysCommand({ bucketName: BUCKET })));
    expect(error.name).toBe('TimeoutError');
    expect(statuses()).toEqual([0]);

    emu.injectFault({ operation: 'GetBucketAccessKeys', kind: 'hang' });
    await lightsail({ maxAttempts: 2, requestHandler: TIMEOUT_200MS }).send(new GetBucketAccessKeysCommand({ bucketName: BUCKET }));
    expect(statuses()).toEqual([0, 0, 200]);
  });

  test('hang with afterEffect: the key is created, the client times out', async () => {
    emu.injectFault({ operation: 'CreateBucketAccessKey', kind: 'hang', afterEffect: true });
    const client = lightsail({ maxAttempts: 1, requestHandler: TIMEOUT_200MS });
    expect((await failure(client.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET })))).name).toBe('TimeoutError');
    expect(emu.accessKeys(BUCKET)).toHaveLength(1);
  });

  test('hangMs answers late; requestTimeout without throwOnRequestTimeout only warns', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      emu.injectFault({ operation: 'GetBuckets', kind: 'hang', hangMs: 400 });
      const started = Date.now();
      await lightsail({ maxAttempts: 1, requestHandler: { requestTimeout: 100 } }).send(new GetBucketsCommand({}));
      expect(Date.now() - started).toBeGreaterThanOrEqual(380);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('100 ms requestTimeout'));
      expect(statuses()).toEqual([200]);
    } finally {
      warn.mockRestore();
    }
  });

  test('stop() releases a hanging request', async () => {
    const other = await AwsEmulator.start();
    other.injectFault({ operation: 'GetBuckets', kind: 'hang' });
    const client = lightsailClientFor(other, { maxAttempts: 1 });
    clients.push(client);
    const pending = failure(client.send(new GetBucketsCommand({})));
    while (other.calls().length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await other.stop();
    expect((await pending).message).toMatch(/socket hang up|ECONNRESET/);
  });

  test('injectFault rejects a malformed fault', () => {
    expect(() => emu.injectFault({ operation: 'GetBuckets', kind: 'server', times: 0 })).toThrow(/times/);
    expect(() => emu.injectFault({ operation: 'GetBuckets', kind: 'server', hangMs: 10 })).toThrow(/hangMs/);
  });
});

describe('protocol', () => {
  test('env() points clients built from the environment at the emulator', async () => {
    const saved = { ...process.env };
    try {
      delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
      delete process.env.AWS_PROFILE;
      delete process.env.AWS_SESSION_TOKEN;
      Object.assign(process.env, emu.env());
      expect(emu.env()).not.toHaveProperty('AWS_MAX_ATTEMPTS');
      const fromEnv = new LightsailClient({});
      clients.push(fromEnv);
      await fromEnv.send(new GetBucketsCommand({ bucketName: BUCKET }));
      const secretsFromEnv = new SecretsManagerClient({});
      clients.push(secretsFromEnv);
      expect(await failure(secretsFromEnv.send(new GetSecretValueCommand({ SecretId: SECRET })))).toBeInstanceOf(ResourceNotFoundException);
      expect(emu.calls().map((call) => call.operation)).toEqual(['GetBuckets', 'GetSecretValue']);
    } finally {
      process.env = saved;
    }
  });

  test('a request must be signed and name a known operation', async () => {
    const post = (target: string, authorization?: string): Promise<Response> => fetch(emu.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ SecretId: SECRET }),
    });
    const unsigned = await post('secretsmanager.GetSecretValue');
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    const unknown = await post('secretsmanager.RotateSecret', 'AWS4-HMAC-SHA256 Credential=x');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
    expect(emu.calls()).toEqual([
      { service: 'secretsmanager', operation: 'GetSecretValue', status: 403 },
      { service: 'secretsmanager', operation: 'RotateSecret', status: 400, target: SECRET },
    ]);
  });
});
