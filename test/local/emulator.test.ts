import {
  CreateBucketAccessKeyCommand,
  DeleteBucketAccessKeyCommand,
  GetBucketAccessKeysCommand,
  GetBucketsCommand,
  InvalidInputException,
  LightsailClient,
  LightsailServiceException,
  NotFoundException,
} from '@aws-sdk/client-lightsail';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { isLightsailNotFound } from '../../lambda/sdk-errors';
import { AwsEmulator } from '../../local/emulator';
import { failure, lightsailClientFor, secretsManagerClientFor } from './emulator/testing';

const BUCKET = 'my-bucket';
const SECRET = 'my/secret';
const TOKEN_1 = '11111111-1111-4111-8111-111111111111';
const TOKEN_2 = '22222222-2222-4222-8222-222222222222';
const TOKEN_3 = '33333333-3333-4333-8333-333333333333';

let emu: AwsEmulator;
let lightsail: LightsailClient;
let secrets: SecretsManagerClient;
let secretArn: string;

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

/** Secrets issued before this test: reset() keeps them, for leak checks across tests. */
let issuedBefore: number;
const issuedInThisTest = () => emu.issuedSecretAccessKeys().slice(issuedBefore);

beforeEach(() => {
  emu.reset();
  issuedBefore = emu.issuedSecretAccessKeys().length;
  emu.createBucket(BUCKET);
  secretArn = emu.createSecret(SECRET).arn;
});

function put(token: string, value: string, stages?: string[]): Promise<{ VersionId?: string; VersionStages?: string[] }> {
  return secrets.send(new PutSecretValueCommand({ SecretId: secretArn, ClientRequestToken: token, SecretString: value, VersionStages: stages }));
}

function stagesById(): Record<string, string[]> {
  return Object.fromEntries(emu.secretVersions(SECRET).map((version) => [version.versionId, version.stages]));
}

describe('Lightsail', () => {
  test('GetBuckets describes a bucket by name, and every bucket without one', async () => {
    const { arn, url } = emu.createBucket('other-bucket');
    expect(arn).toMatch(/^arn:aws:lightsail:us-east-1:123456789012:Bucket\/[0-9a-f-]{36}$/);
    expect(url).toBe('https://other-bucket.s3.us-east-1.amazonaws.com/');

    const { buckets } = await lightsail.send(new GetBucketsCommand({ bucketName: 'other-bucket' }));
    expect(buckets).toEqual([expect.objectContaining({ name: 'other-bucket', arn, url, state: { code: 'OK' } })]);
    expect(buckets?.[0].createdAt).toBeInstanceOf(Date);
    const all = await lightsail.send(new GetBucketsCommand({}));
    expect(all.buckets?.map((bucket) => bucket.name)).toEqual([BUCKET, 'other-bucket']);
  });

  test('an unknown bucket is a NotFoundException with code DoesNotExist, for every operation', async () => {
    const calls = [
      lightsail.send(new GetBucketsCommand({ bucketName: 'no-such-bucket' })),
      lightsail.send(new GetBucketAccessKeysCommand({ bucketName: 'no-such-bucket' })),
      lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: 'no-such-bucket' })),
      lightsail.send(new DeleteBucketAccessKeyCommand({ bucketName: 'no-such-bucket', accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' })),
    ];
    for (const error of await Promise.all(calls.map(failure))) {
      expect(error).toBeInstanceOf(NotFoundException);
      expect(error).toMatchObject({ name: 'NotFoundException', code: 'DoesNotExist', $metadata: { httpStatusCode: 404 } });
      expect(isLightsailNotFound(error)).toBe(true);
    }
  });

  test('the legacy not-found answer reaches the SDK as the base exception with code DoesNotExist', async () => {
    emu.setLegacyNotFound(true);
    const error = await failure(lightsail.send(new GetBucketAccessKeysCommand({ bucketName: 'no-such-bucket' })));
    expect(error).toBeInstanceOf(LightsailServiceException);
    expect(error).not.toBeInstanceOf(NotFoundException);
    expect(error).toMatchObject({ name: 'DoesNotExist', code: 'DoesNotExist' });
    expect(isLightsailNotFound(error)).toBe(true);
  });

  test('an invalid bucket name is an InvalidInputException', async () => {
    const error = await failure(lightsail.send(new GetBucketAccessKeysCommand({ bucketName: 'Not_A_Bucket' })));
    expect(error).toBeInstanceOf(InvalidInputException);
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  test('CreateBucketAccessKey returns the secret once; GetBucketAccessKeys never does', async () => {
    const created = await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET }));
    const key = created.accessKey!;
    expect(key.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(key.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(key).toMatchObject({ status: 'Active', createdAt: expect.any(Date) });
    expect(created.operations).toEqual([
      expect.objectContaining({ operationType: 'CreateBucketAccessKey', resourceName: BUCKET, status: 'Succeeded', isTerminal: true }),
    ]);

    const listed = await lightsail.send(new GetBucketAccessKeysCommand({ bucketName: BUCKET }));
    expect(listed.accessKeys).toEqual([
      { accessKeyId: key.accessKeyId, status: 'Active', createdAt: expect.any(Date), lastUsed: { region: 'N/A', serviceName: 'N/A' } },
    ]);
    expect(JSON.stringify(listed)).not.toContain(key.secretAccessKey!);
    expect(emu.accessKeys(BUCKET)).toEqual([{ accessKeyId: key.accessKeyId, status: 'Active' }]);
    expect(issuedInThisTest()).toEqual([key.secretAccessKey]);
  });

  test('a bucket holds at most two keys, foreign ones included', async () => {
    const foreign = emu.addForeignAccessKey(BUCKET);
    await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET }));
    const error = await failure(lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET })));
    expect(error).toBeInstanceOf(InvalidInputException);
    expect(error.message).toMatch(/maximum of 2 access keys/);
    expect(emu.accessKeys(BUCKET)).toHaveLength(2);
    expect(issuedInThisTest()).toHaveLength(2);
    expect(issuedInThisTest()).toContain(foreign.secretAccessKey);
  });

  test('reset() forgets keys but remembers the secrets it issued', async () => {
    const key = await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET }));
    emu.reset();
    expect(emu.issuedSecretAccessKeys()).toContain(key.accessKey!.secretAccessKey);
    expect(() => emu.accessKeys(BUCKET)).toThrow();
  });

  test('DeleteBucketAccessKey removes the key; a second delete is NotFound', async () => {
    const { accessKey } = await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET }));
    const request = { bucketName: BUCKET, accessKeyId: accessKey!.accessKeyId! };
    const { operations } = await lightsail.send(new DeleteBucketAccessKeyCommand(request));
    expect(operations?.[0]).toMatchObject({ operationType: 'DeleteBucketAccessKey', status: 'Succeeded' });
    expect(emu.accessKeys(BUCKET)).toEqual([]);
    expect(await failure(lightsail.send(new DeleteBucketAccessKeyCommand(request)))).toBeInstanceOf(NotFoundException);
  });

  test('deleting the bucket takes its keys with it', async () => {
    await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName: BUCKET }));
    emu.deleteBucket(BUCKET);
    const error = await failure(lightsail.send(new GetBucketAccessKeysCommand({ bucketName: BUCKET })));
    expect(error).toBeInstanceOf(NotFoundException);
  });
});

describe('Secrets Manager', () => {
  test('an empty secret has no AWSCURRENT; an unknown secret is not found', async () => {
    expect(secretArn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:my\/secret-[A-Za-z0-9]{6}$/);
    const empty = await failure(secrets.send(new GetSecretValueCommand({ SecretId: secretArn })));
    expect(empty).toBeInstanceOf(ResourceNotFoundException);
    expect(empty.message).toBe("Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
    expect(empty.$metadata.httpStatusCode).toBe(400);
    const unknown = await failure(secrets.send(new GetSecretValueCommand({ SecretId: 'no/such/secret' })));
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect(unknown.message).toBe("Secrets Manager can't find the specified secret.");
    const described = await secrets.send(new DescribeSecretCommand({ SecretId: SECRET }));
    expect(described).toMatchObject({ ARN: secretArn, Name: SECRET });
    expect(described.VersionIdsToStages).toBeUndefined();
  });

  test('three PutSecretValue calls move AWSCURRENT and AWSPREVIOUS along', async () => {
    expect(await put(TOKEN_1, 'one')).toMatchObject({ VersionId: TOKEN_1, VersionStages: ['AWSCURRENT'] });
    await put(TOKEN_2, 'two');
    expect(stagesById()).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });
    await put(TOKEN_3, 'three');
    expect(stagesById()).toEqual({ [TOKEN_1]: [], [TOKEN_2]: ['AWSPREVIOUS'], [TOKEN_3]: ['AWSCURRENT'] });
    expect(emu.currentSecretValue(SECRET)).toBe('three');

    const current = await secrets.send(new GetSecretValueCommand({ SecretId: SECRET }));
    expect(current).toMatchObject({ ARN: secretArn, Name: SECRET, VersionId: TOKEN_3, SecretString: 'three', VersionStages: ['AWSCURRENT'] });
    expect(current.CreatedDate).toBeInstanceOf(Date);
    const previous = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn.slice(0, -7), VersionStage: 'AWSPREVIOUS' }));
    expect(previous.SecretString).toBe('two');
    const deprecated = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: TOKEN_1 }));
    expect(deprecated).toMatchObject({ SecretString: 'one', VersionStages: [] });

    const described = await secrets.send(new DescribeSecretCommand({ SecretId: secretArn }));
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_2]: ['AWSPREVIOUS'], [TOKEN_3]: ['AWSCURRENT'] });
    const listed = await secrets.send(new ListSecretVersionIdsCommand({ SecretId: secretArn }));
    expect(listed.Versions?.map((version) => version.VersionId)).toEqual([TOKEN_2, TOKEN_3]);
    const all = await secrets.send(new ListSecretVersionIdsCommand({ SecretId: secretArn, IncludeDeprecated: true }));
    expect(all.Versions?.map((version) => version.VersionId)).toEqual([TOKEN_1, TOKEN_2, TOKEN_3]);
  });

  test('a version that does not exist is not found, by id or by stage', async () => {
    await put(TOKEN_1, 'one');
    const byId = await failure(secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: TOKEN_2 })));
    expect(byId).toBeInstanceOf(ResourceNotFoundException);
    expect(byId.message).toBe(`Secrets Manager can't find the specified secret value for VersionId: ${TOKEN_2}`);
    const byStage = await failure(secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSPREVIOUS' })));
    expect(byStage.message).toBe("Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS");
  });

  test('PutSecretValue with VersionStages leaves AWSCURRENT alone, except on the first version', async () => {
    expect(await put(TOKEN_1, 'one', ['AWSPENDING'])).toMatchObject({ VersionStages: ['AWSPENDING', 'AWSCURRENT'] });
    await put(TOKEN_2, 'two', ['AWSPENDING']);
    expect(stagesById()).toEqual({ [TOKEN_1]: ['AWSCURRENT'], [TOKEN_2]: ['AWSPENDING'] });
  });

  test('a repeated token with the same value is a no-op; with another value it fails', async () => {
    await put(TOKEN_1, 'one');
    await put(TOKEN_2, 'two');
    expect(await put(TOKEN_1, 'one')).toMatchObject({ VersionId: TOKEN_1, VersionStages: ['AWSPREVIOUS'] });
    expect(stagesById()).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });

    const conflict = await failure(put(TOKEN_2, 'changed'));
    expect(conflict).toBeInstanceOf(ResourceExistsException);
    expect(conflict.message).toContain(TOKEN_2);
    expect(emu.currentSecretValue(SECRET)).toBe('two');
  });

  test('a token outside 32 to 64 characters is a ValidationException', async () => {
    const error = await failure(put('too-short', 'value'));
    expect(error).toBeInstanceOf(SecretsManagerServiceException);
    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(emu.secretVersions(SECRET)).toEqual([]);
  });

  test('UpdateSecretVersionStage moves AWSCURRENT back only from the version holding it', async () => {
    await put(TOKEN_1, 'one');
    await put(TOKEN_2, 'two');
    const move = { SecretId: secretArn, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN_1 };
    const missing = await failure(secrets.send(new UpdateSecretVersionStageCommand(move)));
    expect(missing).toBeInstanceOf(InvalidParameterException);
    expect(missing.message).toContain(`currently attached to version ${TOKEN_2}`);
    const wrong = await failure(secrets.send(new UpdateSecretVersionStageCommand({ ...move, RemoveFromVersionId: TOKEN_1 })));
    expect(wrong).toBeInstanceOf(InvalidParameterException);
    expect(stagesById()).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });

    await secrets.send(new UpdateSecretVersionStageCommand({ ...move, RemoveFromVersionId: TOKEN_2 }));
    expect(stagesById()).toEqual({ [TOKEN_1]: ['AWSCURRENT'], [TOKEN_2]: ['AWSPREVIOUS'] });
    expect(emu.currentSecretValue(secretArn)).toBe('one');
  });

  test('DeleteSecret schedules the deletion, or forces it', async () => {
    await put(TOKEN_1, 'one');
    await secrets.send(new DeleteSecretCommand({ SecretId: SECRET, RecoveryWindowInDays: 7 }));
    const scheduled = await failure(secrets.send(new GetSecretValueCommand({ SecretId: SECRET })));
    expect(scheduled).toBeInstanceOf(InvalidRequestException);
    expect(scheduled.message).toMatch(/marked for deletion/);
    await secrets.send(new DeleteSecretCommand({ SecretId: SECRET, ForceDeleteWithoutRecovery: true }));
    expect(await failure(secrets.send(new DescribeSecretCommand({ SecretId: SECRET })))).toBeInstanceOf(ResourceNotFoundException);
  });
});
