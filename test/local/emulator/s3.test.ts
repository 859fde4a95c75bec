import { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import { CreateBucketAccessKeyCommand, DeleteBucketAccessKeyCommand } from '@aws-sdk/client-lightsail';
import { ListObjectsV2Command, ListObjectsV2CommandOutput, NoSuchBucket, S3Client, S3ClientConfig, S3ServiceException } from '@aws-sdk/client-s3';
import { AwsEmulator } from '../../../local/emulator';
import { FAKE_CREDENTIALS, failure, lightsailClientFor, s3ClientFor } from './testing';

const BUCKET = 'my-bucket';
const OTHER_BUCKET = 'other-bucket';
const TIMEOUT_200MS = { requestTimeout: 200, throwOnRequestTimeout: true };

type Credentials = { accessKeyId: string; secretAccessKey: string };

let emu: AwsEmulator;
let clients: S3Client[];
let key: Credentials;

beforeAll(async () => {
  emu = await AwsEmulator.start();
});

afterAll(async () => {
  await emu.stop();
});

beforeEach(() => {
  emu.reset();
  emu.createBucket(BUCKET);
  emu.createBucket(OTHER_BUCKET);
  key = emu.addForeignAccessKey(BUCKET);
  clients = [];
});

afterEach(() => {
  jest.restoreAllMocks();
  clients.forEach((client) => client.destroy());
});

function s3(credentials: Credentials = key, config: S3ClientConfig = {}): S3Client {
  const client = s3ClientFor(emu, credentials, { maxAttempts: 1, ...config });
  clients.push(client);
  return client;
}

function list(client: S3Client = s3(), bucket = BUCKET): Promise<ListObjectsV2CommandOutput> {
  return client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }));
}

function statuses(): number[] {
  return emu.calls().map((call) => call.status);
}

/** Resolves every host name (`my-bucket.localhost`) to the emulator. */
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) {
    (callback as unknown as (error: null, addresses: Array<{ address: string; family: number }>) => void)(
      null, [{ address: '127.0.0.1', family: 4 }]);
  } else {
    callback(null, '127.0.0.1', 4);
  }
};

describe('S3 ListObjectsV2', () => {
  test('a key of the bucket lists it (path style: the SDK sends GET /my-bucket/?list-type=2 to an IP endpoint)', async () => {
    const answer = await list();
    expect(answer).toMatchObject({ Name: BUCKET, KeyCount: 0, MaxKeys: 1, IsTruncated: false, Prefix: '' });
    expect(answer.Contents).toBeUndefined();
    expect(answer.$metadata).toMatchObject({ httpStatusCode: 200, requestId: expect.stringMatching(/^[0-9A-F]{16}$/) });
    expect(emu.calls()).toEqual([{ service: 's3', operation: 'ListObjectsV2', status: 200, target: BUCKET }]);
  });

  test('a key that Lightsail created through the API works at once, in every encoding of the query', async () => {
    const lightsail = lightsailClientFor(emu, { maxAttempts: 1 });
    try {
      const { accessKey } = await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: OTHER_BUCKET }));
      const client = s3({ accessKeyId: accessKey!.accessKeyId!, secretAccessKey: accessKey!.secretAccessKey! });
      const prefix = "a b+c/ü*'()~&=";
      const answer = await client.send(new ListObjectsV2Command({ Bucket: OTHER_BUCKET, Prefix: prefix, StartAfter: 'z', Delimiter: '/' }));
      expect(answer).toMatchObject({ Name: OTHER_BUCKET, Prefix: prefix, StartAfter: 'z', Delimiter: '/', MaxKeys: 1000 });
    } finally {
      lightsail.destroy();
    }
  });

  test('env() points an S3Client built from the environment at the emulator', async () => {
    const saved = { ...process.env };
    try {
      delete process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS;
      delete process.env.AWS_PROFILE;
      Object.assign(process.env, emu.env());
      expect(emu.env().AWS_ENDPOINT_URL_S3).toBe(emu.endpoint);
      const fromEnv = new S3Client({ credentials: key, maxAttempts: 1 });
      clients.push(fromEnv);
      expect((await list(fromEnv)).Name).toBe(BUCKET);
    } finally {
      process.env = saved;
    }
  });

  test('virtual-hosted style: an endpoint named localhost makes the SDK send Host my-bucket.localhost:PORT', async () => {
    const client = s3(key, {
      endpoint: emu.endpoint.replace('127.0.0.1', 'localhost'),
      requestHandler: { httpAgent: new Agent({ lookup: toLoopback } as ConstructorParameters<typeof Agent>[0]) },
    });
    const hosts: string[] = [];
    client.middlewareStack.add((next) => async (args) => {
      hosts.push(String((args.request as { headers: Record<string, string> }).headers.host));
      return next(args);
    }, { step: 'deserialize' });
    expect((await list(client)).Name).toBe(BUCKET);
    expect(hosts).toEqual([expect.stringMatching(/^my-bucket\.localhost:\d+$/)]);
    expect(emu.calls()).toEqual([{ service: 's3', operation: 'ListObjectsV2', status: 200, target: BUCKET }]);
  });

  test('a wrong secret is SignatureDoesNotMatch', async () => {
    const error = await failure(list(s3({ accessKeyId: key.accessKeyId, secretAccessKey: FAKE_CREDENTIALS.secretAccessKey })));
    expect(error).toBeInstanceOf(S3ServiceException);
    expect(error).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    expect(error.message).toMatch(/^The request signature we calculated does not match/);
  });

  test('a request changed after it was signed is SignatureDoesNotMatch', async () => {
    const client = s3();
    client.middlewareStack.add((next) => async (args) => {
      (args.request as { query: Record<string, string> }).query['max-keys'] = '2';
      return next(args);
    }, { step: 'deserialize' });
    expect(await failure(list(client))).toMatchObject({ name: 'SignatureDoesNotMatch' });
  });

  test('an x-amz-* header outside the signature is AccessDenied', async () => {
    const client = s3();
    client.middlewareStack.add((next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-meta-added'] = 'later';
      return next(args);
    }, { step: 'deserialize' });
    const error = await failure(list(client));
    expect(error).toMatchObject({ name: 'AccessDenied', message: 'There were headers present in the request which were not signed' });
  });

  test('an unknown or deleted key is InvalidAccessKeyId', async () => {
    const unknown = await failure(list(s3(FAKE_CREDENTIALS)));
    expect(unknown).toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
    expect(unknown.message).toBe('The AWS Access Key Id you provided does not exist in our records.');

    const lightsail = lightsailClientFor(emu, { maxAttempts: 1 });
    try {
      await lightsail.send(new DeleteBucketAccessKeyCommand({ bucketName: BUCKET, accessKeyId: key.accessKeyId }));
    } finally {
      lightsail.destroy();
    }
    expect(await failure(list())).toMatchObject({ name: 'InvalidAccessKeyId' });
    expect(statuses()).toEqual([403, 200, 403]);
  });

  test("another bucket's key is AccessDenied; an unknown bucket is NoSuchBucket", async () => {
    const denied = await failure(list(s3(), OTHER_BUCKET));
    expect(denied).toMatchObject({ name: 'AccessDenied', message: 'Access Denied', $metadata: { httpStatusCode: 403 } });
    const missing = await failure(list(s3(), 'no-such-bucket'));
    expect(missing).toBeInstanceOf(NoSuchBucket);
    expect(missing.$metadata.httpStatusCode).toBe(404);
    expect(emu.calls().map((call) => call.target)).toEqual([OTHER_BUCKET, 'no-such-bucket']);
  });

  test('a signature for another region is AuthorizationHeaderMalformed', async () => {
    const error = await failure(list(s3(key, { region: 'eu-west-1' })));
    expect(error).toMatchObject({ name: 'AuthorizationHeaderMalformed', $metadata: { httpStatusCode: 400 } });
    expect(error.message).toContain("the region 'eu-west-1' is wrong; expecting 'us-east-1'");
  });

  test('delayKeyPropagation: the next N requests with the key are InvalidAccessKeyId, then it works', async () => {
    emu.delayKeyPropagation(key.accessKeyId, 2);
    const client = s3();
    expect(await failure(list(client))).toMatchObject({ name: 'InvalidAccessKeyId' });
    expect(await failure(list(client))).toMatchObject({ name: 'InvalidAccessKeyId' });
    await list(client);
    expect(statuses()).toEqual([403, 403, 200]);
    expect(() => emu.delayKeyPropagation('AKIANOSUCHKEY0000000', 1)).toThrow(/does not exist/);
    expect(() => emu.delayKeyPropagation(key.accessKeyId, -1)).toThrow(/non-negative/);
  });

  test('requests that are not ListObjectsV2, or not signed, get S3 XML errors', async () => {
    const get = (path: string): Promise<Response> => fetch(`${emu.endpoint}${path}`);
    const unsigned = await get(`/${BUCKET}?list-type=2`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('content-type')).toBe('application/xml');
    expect(await unsigned.text()).toMatch(/<Error><Code>AccessDenied<\/Code><Message>Access Denied<\/Message><RequestId>/);
    expect(await (await get('/no-such-bucket?list-type=2')).text()).toContain('<Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>no-such-bucket</BucketName>');
    const object = await get(`/${BUCKET}/some/key`);
    expect(object.status).toBe(501);
    expect(await object.text()).toContain('<Code>NotImplemented</Code>');
    expect(emu.calls()).toEqual([
      { service: 's3', operation: 'ListObjectsV2', status: 403, target: BUCKET },
      { service: 's3', operation: 'ListObjectsV2', status: 404, target: 'no-such-bucket' },
      { service: 's3', operation: `GET /${BUCKET}/some/key`, status: 501, target: BUCKET },
    ]);
  });
});

describe('S3 faults', () => {
  test('throttling is 503 SlowDown, which the SDK retries', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.01);
    emu.injectFault({ operation: 'ListObjectsV2', kind: 'throttling' });
    const error = await failure(list());
    expect(error).toMatchObject({ name: 'SlowDown', message: 'Please reduce your request rate.', $metadata: { httpStatusCode: 503 } });
    emu.injectFault({ operation: 'ListObjectsV2', kind: 'throttling' });
    await list(s3(key, { maxAttempts: 2 }));
    expect(statuses()).toEqual([503, 503, 200]);
  });

  test('server is 500 InternalError; access-denied is 403 AccessDenied, even for the right key', async () => {
    emu.injectFault({ operation: 'ListObjectsV2', kind: 'server' });
    emu.injectFault({ operation: 'ListObjectsV2', kind: 'access-denied' });
    expect(await failure(list())).toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    expect(await failure(list())).toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await list();
    expect(statuses()).toEqual([500, 403, 200]);
  });

  test('hang: the client times out; a faulted request does not use up a propagation delay', async () => {
    emu.delayKeyPropagation(key.accessKeyId, 1);
    emu.injectFault({ operation: 'ListObjectsV2', kind: 'hang' });
    expect((await failure(list(s3(key, { requestHandler: TIMEOUT_200MS })))).name).toBe('TimeoutError');
    expect(await failure(list())).toMatchObject({ name: 'InvalidAccessKeyId' });
    await list();
    expect(statuses()).toEqual([0, 403, 200]);
  });

  test('hangMs answers late, after checking the signature', async () => {
    emu.injectFault({ operation: 'ListObjectsV2', kind: 'hang', hangMs: 100 });
    const wrongSecret = { accessKeyId: key.accessKeyId, secretAccessKey: FAKE_CREDENTIALS.secretAccessKey };
    expect(await failure(list(s3(wrongSecret)))).toMatchObject({ name: 'SignatureDoesNotMatch' });
    expect(statuses()).toEqual([403]);
  });
});
