/** The emulator's IAM: requests of a principal with policies are judged against them, at that moment. */
import { AccessDeniedException as LightsailAccessDenied, CreateBucketAccessKeyCommand, DeleteBucketAccessKeyCommand, GetBucketsCommand } from '@aws-sdk/client-lightsail';
import { GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { AwsEmulator, IdentityPolicy } from '../../../local/emulator';
import { FAKE_CREDENTIALS, failure, lightsailClientFor, secretsManagerClientFor } from './testing';

const CALLER = { accessKeyId: 'AKIAFUNCTIONCALLER01', secretAccessKey: 'function/caller/secret/EXAMPLE0000000000' };
const CALLER_ARN = 'arn:aws:sts::123456789012:assumed-role/HandlerRole/OnEventHandler';
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Mine/11111111-2222-4333-8444-555555555555';
const OTHER_STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Other/66666666-7777-4888-9999-000000000000';

/** Secrets Manager's model declares no AccessDeniedException: the SDK names the common error. */
const SECRETS_DENIED = { name: 'AccessDeniedException' };

let emu: AwsEmulator;
let bucketArn: string;
let otherBucketArn: string;

beforeAll(async () => {
  emu = await AwsEmulator.start();
});

afterAll(async () => {
  await emu.stop();
});

beforeEach(() => {
  emu.reset();
  bucketArn = emu.createBucket('my-bucket').arn;
  otherBucketArn = emu.createBucket('other-bucket').arn;
  emu.createSecret('mine', { 'aws:cloudformation:stack-id': STACK_ID });
  emu.createSecret('theirs', { 'aws:cloudformation:stack-id': OTHER_STACK_ID });
});

function policy(name: string, ...statements: object[]): IdentityPolicy {
  return { name, document: { Version: '2012-10-17', Statement: statements } };
}

const KEYS_OF_MY_BUCKET = (): IdentityPolicy => policy('Keys', {
  Effect: 'Allow', Action: ['lightsail:CreateBucketAccessKey', 'lightsail:DeleteBucketAccessKey'], Resource: bucketArn,
});
const READS = policy('Reads', { Effect: 'Allow', Action: 'lightsail:GetBuckets', Resource: '*' });
const OWN_SECRETS = policy('Secrets', {
  Effect: 'Allow',
  Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
  Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:*',
  Condition: { StringEquals: { 'aws:ResourceTag/aws:cloudformation:stack-id': STACK_ID } },
});

function install(...policies: IdentityPolicy[]): void {
  emu.setPrincipalPolicies(CALLER.accessKeyId, { arn: CALLER_ARN, policies });
}

const lightsail = () => lightsailClientFor(emu, { credentials: CALLER });
const secrets = () => secretsManagerClientFor(emu, { credentials: CALLER });

test('allowed on the resource a statement names; denied elsewhere with Lightsail\'s AccessDeniedException, before the operation acts', async () => {
  install(KEYS_OF_MY_BUCKET(), READS);
  const created = await lightsail().send(new CreateBucketAccessKeyCommand({ bucketName: 'my-bucket' }));
  expect(created.accessKey?.accessKeyId).toBeDefined();
  await lightsail().send(new GetBucketsCommand({}));

  const denied = await failure(lightsail().send(new CreateBucketAccessKeyCommand({ bucketName: 'other-bucket' })));
  expect(denied).toBeInstanceOf(LightsailAccessDenied);
  expect(denied.$metadata.httpStatusCode).toBe(403);
  expect(denied.message).toBe(`User: ${CALLER_ARN} is not authorized to perform: lightsail:CreateBucketAccessKey on resource: ${otherBucketArn} ` +
    'because no identity-based policy allows the lightsail:CreateBucketAccessKey action');
  expect(emu.accessKeys('other-bucket')).toEqual([]);
  expect(emu.iamCounts()).toEqual({ allowed: 2, denied: 1 });
});

test('a secret is judged by its tags: this stack\'s tag allowed, another stack\'s denied (Secrets Manager\'s AccessDeniedException), by name or by ARN', async () => {
  install(OWN_SECRETS);
  const token = '11111111-1111-4111-8111-111111111111';
  await secrets().send(new PutSecretValueCommand({ SecretId: 'mine', SecretString: 'x', ClientRequestToken: token }));
  const mine = emu.secretVersions('mine');
  expect(mine).toHaveLength(1);

  const theirsArn = (await failure(secrets().send(new GetSecretValueCommand({ SecretId: 'theirs' })))).message.match(/on resource: (\S+)/)?.[1];
  expect(theirsArn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:theirs-[A-Za-z0-9]{6}$/);
  for (const secretId of ['theirs', theirsArn!]) {
    const denied = await failure(secrets().send(new PutSecretValueCommand({ SecretId: secretId, SecretString: 'y' })));
    expect(denied).toMatchObject(SECRETS_DENIED);
    expect(denied.$metadata.httpStatusCode).toBe(400);
  }
  expect(emu.secretVersions('theirs')).toEqual([]);
});

test('a secret that does not exist carries no tags: a tag-conditioned policy denies it, an ARN-scoped one lets the service answer', async () => {
  install(OWN_SECRETS);
  expect(await failure(secrets().send(new GetSecretValueCommand({ SecretId: 'gone' })))).toMatchObject(SECRETS_DENIED);
  install(policy('ByArn', { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:*' }));
  expect(await failure(secrets().send(new GetSecretValueCommand({ SecretId: 'gone' })))).toBeInstanceOf(ResourceNotFoundException);
});

test('policies replaced in place take effect on the next request, as after an update of the role\'s policy', async () => {
  install(KEYS_OF_MY_BUCKET());
  const key = await lightsail().send(new CreateBucketAccessKeyCommand({ bucketName: 'my-bucket' }));
  install(READS);
  const denied = await failure(lightsail().send(new DeleteBucketAccessKeyCommand({ bucketName: 'my-bucket', accessKeyId: key.accessKey!.accessKeyId })));
  expect(denied).toBeInstanceOf(LightsailAccessDenied);
  expect(emu.accessKeys('my-bucket')).toHaveLength(1);
  install(READS, policy('AnyBucket', { Effect: 'Allow', Action: 'lightsail:DeleteBucketAccessKey', Resource: 'arn:aws:lightsail:us-east-1:123456789012:Bucket/*' }));
  await lightsail().send(new DeleteBucketAccessKeyCommand({ bucketName: 'my-bucket', accessKeyId: key.accessKey!.accessKeyId }));
  expect(emu.accessKeys('my-bucket')).toEqual([]);
});

test('a principal without policies is denied everything; other callers (no policies installed for their key) are not judged; reset() forgets principals', async () => {
  install();
  expect(await failure(lightsail().send(new GetBucketsCommand({})))).toBeInstanceOf(LightsailAccessDenied);
  await lightsailClientFor(emu, { credentials: FAKE_CREDENTIALS }).send(new CreateBucketAccessKeyCommand({ bucketName: 'other-bucket' }));
  expect(emu.principalPolicies(CALLER.accessKeyId)).toEqual({ arn: CALLER_ARN, policies: [] });
  emu.reset();
  expect(emu.principalPolicies(CALLER.accessKeyId)).toBeUndefined();
  emu.createBucket('my-bucket');
  await lightsail().send(new GetBucketsCommand({}));
});
