/**
 * The synthesized IAM policy of the rotation function's role, evaluated by an IAM policy simulator
 * (@cloud-copilot/iam-simulate) on concrete ARNs: every call the rotation function makes (lambda/rotation.ts,
 * key-slots.ts, secret-store.ts, lightsail.ts) is allowed on the rotating keys' own secrets and
 * buckets, and what it never needs is denied by the role's own policy. The S3 request of testSecret is
 * signed with the Lightsail key being tested (lambda/bucket-check.ts), never with the role: the role
 * has no S3 permission at all. Also: only Secrets Manager, of the stack's account, may invoke the function.
 */
import { App, CfnElement, Duration, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey } from '../../lib';
import { ENV, secretId } from '../lib/stack-fixture';
import {
  ACCOUNT, CfnTemplate, ConcreteTemplate, Decision, IdentityPolicy, OTHER_ACCOUNT, OTHER_REGION, PolicyDocument, PolicyStatement,
  REGION, simulate, uuidFor,
} from './iam-harness';

interface Principal {
  readonly arn: string;
  readonly roleId: string;
  readonly policies: IdentityPolicy[];
}

interface Env {
  readonly template: Template;
  readonly concrete: ConcreteTemplate;
  readonly rotation: Principal;
  readonly handler: Principal;
  readonly rotationFunctionId: string;
  readonly rotationFunctionArn: string;
  readonly handlerFunctionArn: string;
  readonly logGroupArn: string;
  /** The secret of the key of the app's bucket, which rotates. */
  readonly rotatingSecret: string;
  /** The secret of the key of a bucket known by name, which rotates (stack "S" only). */
  readonly byNameSecret?: string;
  /** The secret of a key that does not rotate. */
  readonly staticSecret: string;
  readonly bucketArn: string;
  /** The customer managed key of the rotating key's secret, and of the static key's secret (stack "S" only). */
  readonly keyArn?: string;
  readonly keyPolicy?: PolicyDocument;
  readonly staticKeyArn?: string;
  readonly staticKeyPolicy?: PolicyDocument;
}

const EVERY_30_DAYS = { automaticallyAfter: Duration.days(30) };

/**
 * "S": the key of an app bucket, encrypted with a customer managed key, rotating every 30 days; a
 * rotating key of a bucket known only by name; and a key that does not rotate (another app bucket,
 * another customer managed key).
 *
 * "T": the rotating key of an app bucket, and a key of a bucket known only by name that does not
 * rotate, which widens the handler's role to every bucket of the region but must not widen the
 * rotation role.
 */
function synthesize(layout: 'S' | 'T', props: StackProps = { env: ENV }): Env {
  // aws-cdk-lib's built-in CloudFormation validation is not what these tests check, and costs seconds.
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), layout, props);
  const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'app-bucket', bundleId: 'small_1_0' });
  const logicalId = (construct: { node: { defaultChild?: unknown } }): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  let rotating: LightsailBucketAccessKey;
  let byName: LightsailBucketAccessKey | undefined;
  let stat: LightsailBucketAccessKey;
  let key: kms.Key | undefined;
  let staticKey: kms.Key | undefined;
  if (layout === 'S') {
    key = new kms.Key(stack, 'K', { enableKeyRotation: true });
    staticKey = new kms.Key(stack, 'StaticK', { enableKeyRotation: true });
    const staticBucket = new lightsail.CfnBucket(stack, 'StaticBucket', { bucketName: 'static-bucket', bundleId: 'small_1_0' });
    rotating = new LightsailBucketAccessKey(stack, 'Rotating', { bucket, encryptionKey: key, rotation: EVERY_30_DAYS });
    byName = new LightsailBucketAccessKey(stack, 'ByName', { bucketName: 'bucket-made-by-hand', rotation: EVERY_30_DAYS });
    stat = new LightsailBucketAccessKey(stack, 'Static', { bucket: staticBucket, encryptionKey: staticKey });
  } else {
    rotating = new LightsailBucketAccessKey(stack, 'Rotating', { bucket, rotation: EVERY_30_DAYS });
    stat = new LightsailBucketAccessKey(stack, 'Static', { bucketName: 'static-by-name' });
  }
  const template = Template.fromStack(stack);
  const concrete = new ConcreteTemplate(template.toJSON() as CfnTemplate, layout);
  const functions = template.findResources('AWS::Lambda::Function');
  const principal = (functionId: string): Principal => {
    const roleId = functions[functionId].Properties.Role['Fn::GetAtt'][0] as string;
    return {
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${concrete.ref(roleId)}/${concrete.ref(functionId)}`,
      roleId,
      policies: concrete.rolePolicies(roleId),
    };
  };
  const rotationFunctionId = rotationFunctionOf(template);
  // The function the provider framework invokes (stack-fixture's handlerFunctionId expects a single index.handler).
  const framework = Object.values(functions).find((f) => f.Properties.Handler === 'framework.onEvent')!;
  const handlerFunctionId = framework.Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN['Fn::GetAtt'][0] as string;
  return {
    template,
    concrete,
    rotation: principal(rotationFunctionId),
    handler: principal(handlerFunctionId),
    rotationFunctionId,
    rotationFunctionArn: concrete.getAtt(rotationFunctionId, 'Arn'),
    handlerFunctionArn: concrete.getAtt(handlerFunctionId, 'Arn'),
    logGroupArn: concrete.getAtt(Object.keys(template.findResources('AWS::Logs::LogGroup'))[0], 'Arn'),
    rotatingSecret: concrete.ref(secretId(rotating)),
    byNameSecret: byName ? concrete.ref(secretId(byName)) : undefined,
    staticSecret: concrete.ref(secretId(stat)),
    bucketArn: concrete.getAtt(stack.getLogicalId(bucket), 'BucketArn'),
    keyArn: key ? concrete.getAtt(logicalId(key), 'Arn') : undefined,
    keyPolicy: key ? concrete.keyPolicy(logicalId(key)) : undefined,
    staticKeyArn: staticKey ? concrete.getAtt(logicalId(staticKey), 'Arn') : undefined,
    staticKeyPolicy: staticKey ? concrete.keyPolicy(logicalId(staticKey)) : undefined,
  };
}

/** The one function every rotation schedule of the template names: what Secrets Manager invokes. */
function rotationFunctionOf(template: Template): string {
  const schedules = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'));
  const ids = [...new Set(schedules.map((s) => s.Properties.RotationLambdaARN['Fn::GetAtt'][0] as string))];
  if (ids.length !== 1) {
    throw new Error(`expected the rotation schedules to name one function, found ${ids.length}`);
  }
  return ids[0];
}

/** The default key policy: the account's IAM policies decide. */
function delegatingKeyPolicy(): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }] };
}

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new Error(`this stack has no ${what}`);
  }
  return value;
}

const VIA_SECRETS_MANAGER = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` };
const OTHER_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/database-password-Xy12Zw`;
const OTHER_BUCKET = `arn:aws:lightsail:${REGION}:${ACCOUNT}:Bucket/${uuidFor('another bucket')}`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${uuidFor('another key')}`;
const anyBucketIn = (region: string, account: string) => (): string => `arn:aws:lightsail:${region}:${account}:Bucket/${uuidFor(`${region}${account}`)}`;
const logStream = (env: Env, group = env.logGroupArn): string => `${group.replace(/:\*$/, '')}:log-stream:2026/01/01/[$LATEST]0123abcd`;

interface Case {
  readonly name: string;
  readonly action: string;
  readonly resource: (env: Env) => string;
  readonly context?: Record<string, string>;
  /** The KMS key policy sent as the resource policy (KMS evaluates it with the role's). */
  readonly keyPolicy?: (env: Env) => PolicyDocument;
  readonly expected: 'Allowed' | 'Denied';
}

const allow = (name: string, action: string, resource: (env: Env) => string, extra: Partial<Case> = {}): Case => ({ name, action, resource, expected: 'Allowed', ...extra });
const deny = (name: string, action: string, resource: (env: Env) => string, extra: Partial<Case> = {}): Case => ({ name, action, resource, expected: 'Denied', ...extra });

function decide(env: Env, who: Principal, c: Case, policies = who.policies): Promise<Decision> {
  return simulate(who.arn, policies, { action: c.action, resource: c.resource(env), context: c.context, resourcePolicy: c.keyPolicy?.(env),
    resourceTags: env.concrete.tagsOf(c.resource(env)) });
}

/** Allowed overall; or denied both overall and by the role's own policies (not merely by a missing resource policy). */
function expectDecision(decision: Decision, expected: Case['expected']): void {
  expect(decision).toEqual(expected === 'Allowed'
    ? { result: 'Allowed', identity: 'Allowed' }
    : { result: 'ImplicitlyDenied', identity: 'ImplicitlyDenied' });
}

const everywhere = (): string => '*';
const rotatingSecret = (env: Env): string => env.rotatingSecret;
const byNameSecret = (env: Env): string => must(env.byNameSecret, 'key of a bucket known by name');
const staticSecret = (env: Env): string => env.staticSecret;
const bucketArn = (env: Env): string => env.bucketArn;
const keyArn = (env: Env): string => must(env.keyArn, 'customer managed key');
const keyPolicy = (env: Env): PolicyDocument => must(env.keyPolicy, 'customer managed key');
const staticKeyArn = (env: Env): string => must(env.staticKeyArn, 'customer managed key of the static key');
const staticKeyPolicy = (env: Env): PolicyDocument => must(env.staticKeyPolicy, 'customer managed key of the static key');
const cmk = { keyPolicy };

/** The calls of the rotation function, in lambda/secret-store.ts (on the secret Secrets Manager names). */
const SECRET_CALLS = ['DescribeSecret', 'GetSecretValue', 'PutSecretValue', 'UpdateSecretVersionStage'].map((a) => `secretsmanager:${a}`);
/** What the role's policy grants: those calls, lambda/lightsail.ts's, KMS through Secrets Manager, and Lambda's own logging. */
const GRANTED_ACTIONS = [
  ...SECRET_CALLS,
  'lightsail:GetBuckets', 'lightsail:GetBucketAccessKeys', 'lightsail:GetOperation', 'lightsail:CreateBucketAccessKey', 'lightsail:DeleteBucketAccessKey',
  'kms:Decrypt', 'kms:GenerateDataKey',
  'logs:CreateLogStream', 'logs:PutLogEvents',
].sort();

// Rotation role of stack "S".
const GET_ROTATING_SECRET = allow('secretsmanager:GetSecretValue on the rotating key\'s secret', 'secretsmanager:GetSecretValue', rotatingSecret);
const DECRYPT = allow('kms:Decrypt on the key through Secrets Manager', 'kms:Decrypt', keyArn, { ...cmk, context: VIA_SECRETS_MANAGER });
const GENERATE = allow('kms:GenerateDataKey on the key through Secrets Manager', 'kms:GenerateDataKey', keyArn, { ...cmk, context: VIA_SECRETS_MANAGER });
const GET_BUCKET_KEYS = allow('lightsail:GetBucketAccessKeys on "*"', 'lightsail:GetBucketAccessKeys', everywhere);
const DESCRIBE_BY_NAME = allow('secretsmanager:DescribeSecret on the secret of the rotating key of a bucket known by name',
  'secretsmanager:DescribeSecret', byNameSecret);
const CREATE_KEY = allow('lightsail:CreateBucketAccessKey on the bucket', 'lightsail:CreateBucketAccessKey', bucketArn);
const GET_RANDOM_PASSWORD = deny('secretsmanager:GetRandomPassword (what aws-cdk-lib\'s addRotationSchedule would add)',
  'secretsmanager:GetRandomPassword', everywhere);
const DELETE_SECRET = deny('secretsmanager:DeleteSecret on the rotating key\'s secret', 'secretsmanager:DeleteSecret', rotatingSecret);
const ROTATE_SECRET = deny('secretsmanager:RotateSecret on the rotating key\'s secret', 'secretsmanager:RotateSecret', rotatingSecret);
const S3_LIST = deny('s3:ListBucket (ListObjectsV2) on the bucket: testSecret signs it with the Lightsail key, not the role',
  's3:ListBucket', () => 'arn:aws:s3:::app-bucket');
const GET_STATIC_SECRET = deny('secretsmanager:GetSecretValue on the secret of a key that does not rotate',
  'secretsmanager:GetSecretValue', staticSecret);
const PUT_STATIC_SECRET = deny('secretsmanager:PutSecretValue on the secret of a key that does not rotate',
  'secretsmanager:PutSecretValue', staticSecret);
const DECRYPT_STATIC_KEY = deny('kms:Decrypt through Secrets Manager on the customer managed key of a key that does not rotate',
  'kms:Decrypt', staticKeyArn, { keyPolicy: staticKeyPolicy, context: VIA_SECRETS_MANAGER });
const CREATE_OTHER_REGION = deny('lightsail:CreateBucketAccessKey on a bucket in another region', 'lightsail:CreateBucketAccessKey',
  anyBucketIn(OTHER_REGION, ACCOUNT));
const DECRYPT_WITHOUT_VIA = deny('kms:Decrypt on the key without kms:ViaService', 'kms:Decrypt', keyArn, cmk);
const GENERATE_WITHOUT_VIA = deny('kms:GenerateDataKey on the key without kms:ViaService', 'kms:GenerateDataKey', keyArn, cmk);
const PASS_OWN_ROLE = deny('iam:PassRole on the rotation role itself', 'iam:PassRole', (env) => env.concrete.getAtt(env.rotation.roleId, 'Arn'));

const ROTATION_IN_S: Case[] = [
  // lambda/lightsail.ts: readBucket, and the keys of any bucket: these two actions take only "*".
  allow('lightsail:GetBuckets on "*"', 'lightsail:GetBuckets', everywhere),
  GET_BUCKET_KEYS,
  allow('lightsail:GetOperation on "*" (lambda/operations.ts: no resource type)', 'lightsail:GetOperation', everywhere),
  CREATE_KEY,
  allow('lightsail:DeleteBucketAccessKey on the bucket (freeSlot, deleteUnstoredKey)', 'lightsail:DeleteBucketAccessKey', bucketArn),
  allow('lightsail:CreateBucketAccessKey on ANY bucket of the stack\'s account and region (the documented scope of a rotating bucketName)',
    'lightsail:CreateBucketAccessKey', anyBucketIn(REGION, ACCOUNT)),
  allow('lightsail:DeleteBucketAccessKey on ANY bucket of the stack\'s account and region (the documented scope of a rotating bucketName)',
    'lightsail:DeleteBucketAccessKey', anyBucketIn(REGION, ACCOUNT)),
  // lambda/secret-store.ts, on both rotating keys' secrets.
  ...SECRET_CALLS.map((action) => (action === 'secretsmanager:GetSecretValue' ? GET_ROTATING_SECRET
    : allow(`${action} on the rotating key's secret`, action, rotatingSecret))),
  ...SECRET_CALLS.map((action) => (action === 'secretsmanager:DescribeSecret' ? DESCRIBE_BY_NAME
    : allow(`${action} on the secret of the rotating key of a bucket known by name`, action, byNameSecret))),
  // Secrets Manager decrypts (GetSecretValue) and encrypts (PutSecretValue) with the customer managed key.
  DECRYPT,
  GENERATE,
  // Lambda's own logging, to the provider's log group.
  allow('logs:CreateLogStream in the provider\'s log group', 'logs:CreateLogStream', (env) => logStream(env)),
  allow('logs:PutLogEvents in the provider\'s log group', 'logs:PutLogEvents', (env) => logStream(env)),

  // Secrets Manager: no lifecycle, no rotation configuration, no generated passwords.
  DELETE_SECRET,
  deny('secretsmanager:CreateSecret on the rotating key\'s secret', 'secretsmanager:CreateSecret', rotatingSecret),
  ROTATE_SECRET,
  deny('secretsmanager:RotateSecret on the secret of the rotating key of a bucket known by name', 'secretsmanager:RotateSecret', byNameSecret),
  deny('secretsmanager:CancelRotateSecret on the rotating key\'s secret', 'secretsmanager:CancelRotateSecret', rotatingSecret),
  deny('secretsmanager:UpdateSecret on the rotating key\'s secret', 'secretsmanager:UpdateSecret', rotatingSecret),
  deny('secretsmanager:PutResourcePolicy on the rotating key\'s secret', 'secretsmanager:PutResourcePolicy', rotatingSecret),
  GET_RANDOM_PASSWORD,
  deny('secretsmanager:ListSecrets', 'secretsmanager:ListSecrets', everywhere),
  // S3: none at all.
  S3_LIST,
  deny('s3:GetObject in the bucket', 's3:GetObject', () => 'arn:aws:s3:::app-bucket/some/object'),
  deny('s3:PutObject in the bucket', 's3:PutObject', () => 'arn:aws:s3:::app-bucket/some/object'),
  deny('s3:ListAllMyBuckets', 's3:ListAllMyBuckets', everywhere),
  // Keys that do not rotate, and other secrets.
  GET_STATIC_SECRET,
  PUT_STATIC_SECRET,
  deny('secretsmanager:DescribeSecret on the secret of a key that does not rotate', 'secretsmanager:DescribeSecret', staticSecret),
  deny('secretsmanager:UpdateSecretVersionStage on the secret of a key that does not rotate', 'secretsmanager:UpdateSecretVersionStage', staticSecret),
  DECRYPT_STATIC_KEY,
  deny('kms:GenerateDataKey through Secrets Manager on the customer managed key of a key that does not rotate',
    'kms:GenerateDataKey', staticKeyArn, { keyPolicy: staticKeyPolicy, context: VIA_SECRETS_MANAGER }),
  deny('secretsmanager:GetSecretValue on another secret of the account', 'secretsmanager:GetSecretValue', () => OTHER_SECRET),
  deny('secretsmanager:PutSecretValue on another secret of the account', 'secretsmanager:PutSecretValue', () => OTHER_SECRET),
  // Other buckets: in another region or account (this stack's rotating bucketName covers its own region).
  CREATE_OTHER_REGION,
  deny('lightsail:DeleteBucketAccessKey on a bucket in another region', 'lightsail:DeleteBucketAccessKey', anyBucketIn(OTHER_REGION, ACCOUNT)),
  deny('lightsail:CreateBucketAccessKey on a bucket in another account', 'lightsail:CreateBucketAccessKey', anyBucketIn(REGION, OTHER_ACCOUNT)),
  deny('lightsail:DeleteBucketAccessKey on a bucket in another account', 'lightsail:DeleteBucketAccessKey', anyBucketIn(REGION, OTHER_ACCOUNT)),
  deny('lightsail:DeleteBucket on the bucket', 'lightsail:DeleteBucket', bucketArn),
  // KMS only through Secrets Manager, only on the rotating key's customer managed key.
  DECRYPT_WITHOUT_VIA,
  GENERATE_WITHOUT_VIA,
  deny('kms:Decrypt on the key through another service (SSM)', 'kms:Decrypt', keyArn, { ...cmk, context: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com` } }),
  deny('kms:Encrypt on the key through Secrets Manager', 'kms:Encrypt', keyArn, { ...cmk, context: VIA_SECRETS_MANAGER }),
  deny('kms:CreateGrant on the key through Secrets Manager', 'kms:CreateGrant', keyArn, { ...cmk, context: VIA_SECRETS_MANAGER }),
  deny('kms:Decrypt on another key through Secrets Manager', 'kms:Decrypt', () => OTHER_KEY, { keyPolicy: delegatingKeyPolicy, context: VIA_SECRETS_MANAGER }),
  // No role passing, no functions.
  PASS_OWN_ROLE,
  deny('iam:PassRole on the handler\'s role', 'iam:PassRole', (env) => env.concrete.getAtt(env.handler.roleId, 'Arn')),
  deny('lambda:InvokeFunction on the onEvent handler', 'lambda:InvokeFunction', (env) => env.handlerFunctionArn),
  deny('logs:PutLogEvents in another log group', 'logs:PutLogEvents', (env) => logStream(env, `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:other:*`)),
];

// Rotation role of stack "T": only app buckets rotate, a key known by name does not.
const CREATE_OTHER_BUCKET = deny('lightsail:CreateBucketAccessKey on another bucket of the account and region',
  'lightsail:CreateBucketAccessKey', () => OTHER_BUCKET);
const ROTATION_IN_T: Case[] = [
  CREATE_KEY,
  allow('lightsail:DeleteBucketAccessKey on the bucket', 'lightsail:DeleteBucketAccessKey', bucketArn),
  ...SECRET_CALLS.map((action) => allow(`${action} on the rotating key's secret`, action, rotatingSecret)),
  CREATE_OTHER_BUCKET,
  deny('lightsail:DeleteBucketAccessKey on another bucket of the account and region', 'lightsail:DeleteBucketAccessKey', () => OTHER_BUCKET),
  deny('secretsmanager:GetSecretValue on the secret of the key (of a bucket known by name) that does not rotate',
    'secretsmanager:GetSecretValue', staticSecret),
  deny('secretsmanager:DescribeSecret on the secret of the key (of a bucket known by name) that does not rotate',
    'secretsmanager:DescribeSecret', staticSecret),
  deny('kms:Decrypt through Secrets Manager on any key (no customer managed key in this stack)',
    'kms:Decrypt', () => OTHER_KEY, { keyPolicy: delegatingKeyPolicy, context: VIA_SECRETS_MANAGER }),
];

// The handler's role of the same stacks, where it differs: the denials above are the rotation role's own.
const HANDLER_IN_S: Case[] = [
  allow('secretsmanager:GetSecretValue on the secret of the key that does not rotate', 'secretsmanager:GetSecretValue', staticSecret),
  allow('kms:Decrypt through Secrets Manager on the customer managed key of the key that does not rotate',
    'kms:Decrypt', staticKeyArn, { keyPolicy: staticKeyPolicy, context: VIA_SECRETS_MANAGER }),
  deny('secretsmanager:DescribeSecret on the rotating key\'s secret (only rotation reads the rotation state)',
    'secretsmanager:DescribeSecret', rotatingSecret),
];
const HANDLER_IN_T: Case[] = [
  allow('lightsail:CreateBucketAccessKey on another bucket of the account and region (its key known by name)',
    'lightsail:CreateBucketAccessKey', () => OTHER_BUCKET),
];

const s = synthesize('S');
const t = synthesize('T');

describe('rotation role (app bucket with a customer managed key, bucket known by name, a key that does not rotate)', () => {
  test.each(ROTATION_IN_S)('$expected: $name', async (c) => {
    expectDecision(await decide(s, s.rotation, c), c.expected);
  });
});

describe('rotation role (app bucket rotates; a key of a bucket known by name does not)', () => {
  test.each(ROTATION_IN_T)('$expected: $name', async (c) => {
    expectDecision(await decide(t, t.rotation, c), c.expected);
  });
});

describe('handler role of the same stacks, for contrast', () => {
  test.each(HANDLER_IN_S)('$expected: $name', async (c) => {
    expectDecision(await decide(s, s.handler, c), c.expected);
  });
  test.each(HANDLER_IN_T)('$expected: $name', async (c) => {
    expectDecision(await decide(t, t.handler, c), c.expected);
  });
});

/** Every action any Allow statement grants, as written. Throws on NotAction: it would grant everything else. */
function grantedActions(policies: IdentityPolicy[]): string[] {
  const statements = policies.flatMap((p) => p.policy.Statement).filter((st) => st.Effect === 'Allow');
  for (const st of statements) {
    if ('NotAction' in st) {
      throw new Error('an Allow statement with NotAction grants every other action');
    }
  }
  return [...new Set(statements.flatMap((st) => ([] as string[]).concat(st.Action)))].sort();
}

/** Whether an action pattern ("s3:*", "*", "S?:Get*") can match some action of the service. */
function matchesService(pattern: string, service: string): boolean {
  const servicePart = pattern.includes(':') ? pattern.split(':')[0] : pattern;
  const regex = new RegExp(`^${servicePart.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return pattern === '*' || regex.test(service);
}

/** With a customer managed key, the KMS actions; without, none (the aws/secretsmanager key needs no IAM grant). */
function expectExactlyTheRotationCalls(policies: IdentityPolicy[], withCmk = true): void {
  expect(grantedActions(policies)).toEqual(GRANTED_ACTIONS.filter((a) => withCmk || !a.startsWith('kms:')));
}

function expectNoS3(policies: IdentityPolicy[]): void {
  expect(grantedActions(policies).filter((a) => matchesService(a, 's3'))).toEqual([]);
}

describe('rotation role, as a whole', () => {
  test.each([['S', s], ['T', t]] as const)('stack %s: grants exactly the actions the rotation function calls, and logging', (_name, env) => {
    expectExactlyTheRotationCalls(env.rotation.policies, env.keyArn !== undefined);
  });
  test.each([['S', s], ['T', t]] as const)('stack %s: no statement can match any s3 action', (_name, env) => {
    expectNoS3(env.rotation.policies);
  });
  test('is its own role, not the handler\'s, and has no managed policy or boundary', () => {
    expect(s.rotation.roleId).not.toEqual(s.handler.roleId);
    expect(s.rotation.roleId).toMatch(/RotationRole/);
    // rolePolicies refuses ManagedPolicyArns and PermissionsBoundary: what is simulated is all there is.
    expect(() => s.concrete.rolePolicies(s.rotation.roleId)).not.toThrow();
  });
});

// The Lambda permission: who may invoke the rotation function.

/** Every AWS::Lambda::Permission of the template must be this one: Secrets Manager of the stack's account, on the rotation function. */
function expectOnlySecretsManagerMayInvoke(resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>, rotationFunctionId: string,
  account: unknown = ACCOUNT): void {
  const permissions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
  expect(permissions).toHaveLength(1);
  expect(permissions[0].Properties).toEqual({
    Action: 'lambda:InvokeFunction',
    FunctionName: { 'Fn::GetAtt': [rotationFunctionId, 'Arn'] },
    Principal: 'secretsmanager.amazonaws.com',
    SourceAccount: account,
  });
}

interface InvokeCase {
  readonly name: string;
  readonly principal: string;
  readonly sourceAccount?: string;
  readonly resource?: (env: Env) => string;
  readonly expected: 'Allowed' | 'Denied';
}

/** Identity policies of a principal of another account, which would allow it anything: only the function's policy decides. */
const OTHER_ACCOUNT_ADMIN: IdentityPolicy[] = [{ name: 'admin', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }];

async function invoke(env: Env, c: InvokeCase, functionPolicy = env.concrete.functionPolicy(env.rotationFunctionId)): Promise<Decision['result']> {
  const isService = c.principal.endsWith('.amazonaws.com');
  const decision = await simulate(c.principal, isService ? [] : OTHER_ACCOUNT_ADMIN, {
    action: 'lambda:InvokeFunction',
    resource: (c.resource ?? ((e: Env) => e.rotationFunctionArn))(env),
    context: c.sourceAccount === undefined ? {} : { 'aws:SourceAccount': c.sourceAccount },
    resourcePolicy: functionPolicy,
  });
  return decision.result;
}

const SECRETS_MANAGER_OTHER_ACCOUNT: InvokeCase = { name: 'Secrets Manager on behalf of another account', principal: 'secretsmanager.amazonaws.com',
  sourceAccount: OTHER_ACCOUNT, expected: 'Denied' };
const OTHER_SERVICE: InvokeCase = { name: 'another service (EventBridge) of the stack\'s account', principal: 'events.amazonaws.com',
  sourceAccount: ACCOUNT, expected: 'Denied' };
const SECRETS_MANAGER_NO_SOURCE: InvokeCase = { name: 'Secrets Manager without a source account', principal: 'secretsmanager.amazonaws.com',
  expected: 'Denied' };
const OTHER_ACCOUNT_ROLE: InvokeCase = { name: 'a role of another account (allowed everything by its own policies)',
  principal: `arn:aws:iam::${OTHER_ACCOUNT}:role/intruder`, expected: 'Denied' };
const ON_HANDLER: InvokeCase = { name: 'Secrets Manager of the stack\'s account, on the onEvent handler', principal: 'secretsmanager.amazonaws.com',
  sourceAccount: ACCOUNT, resource: (env) => env.handlerFunctionArn, expected: 'Denied' };
const INVOKE: InvokeCase[] = [
  { name: 'Secrets Manager on behalf of the stack\'s account', principal: 'secretsmanager.amazonaws.com', sourceAccount: ACCOUNT, expected: 'Allowed' },
  SECRETS_MANAGER_OTHER_ACCOUNT,
  SECRETS_MANAGER_NO_SOURCE,
  OTHER_SERVICE,
  { name: 'Lambda itself, of the stack\'s account', principal: 'lambda.amazonaws.com', sourceAccount: ACCOUNT, expected: 'Denied' },
  OTHER_ACCOUNT_ROLE,
  ON_HANDLER,
];

describe('who may invoke the rotation function', () => {
  test.each([['S (two rotating keys)', s], ['T (one)', t]] as const)(
    'stack %s: exactly one AWS::Lambda::Permission, for secretsmanager.amazonaws.com of the stack\'s account, on the rotation function', (_name, env) => {
      expectOnlySecretsManagerMayInvoke(env.concrete.template.Resources, env.rotationFunctionId);
    });

  test('an environment-agnostic stack restricts the source to its own account (AWS::AccountId)', () => {
    const agnostic = synthesize('T', {});
    expectOnlySecretsManagerMayInvoke(agnostic.concrete.template.Resources, agnostic.rotationFunctionId, { Ref: 'AWS::AccountId' });
  });

  test.each(INVOKE)('$expected: $name', async (c) => {
    expect(await invoke(s, c)).toEqual(c.expected === 'Allowed' ? 'Allowed' : 'ImplicitlyDenied');
  });
});

describe('the simulation harness', () => {
  const statementsWith = (policies: IdentityPolicy[], action: string): PolicyStatement[] => {
    const found = policies.flatMap((p) => p.policy.Statement).filter((st) => ([] as string[]).concat(st.Action).includes(action));
    if (found.length === 0) {
      throw new Error(`no statement grants ${action}`);
    }
    return found;
  };
  const statementWith = (policies: IdentityPolicy[], action: string): PolicyStatement => statementsWith(policies, action)[0];
  const addStatement = (policies: IdentityPolicy[], statement: PolicyStatement): void => {
    policies[0].policy.Statement.push(statement);
  };
  /** Removes the action from every statement that lists it, and statements left with no action. */
  const withdraw = (policies: IdentityPolicy[], action: string): void => {
    for (const st of statementsWith(policies, action)) {
      st.Action = ([] as string[]).concat(st.Action).filter((a) => a !== action);
    }
    for (const { policy } of policies) {
      policy.Statement.splice(0, policy.Statement.length, ...policy.Statement.filter((st) => ([] as string[]).concat(st.Action).length > 0));
    }
  };

  interface Mutation {
    readonly name: string;
    readonly flips: Case;
    readonly mutate: (policies: IdentityPolicy[], env: Env) => void;
    readonly env?: Env;
  }
  // Regressions a change to lib/ could plausibly make, each caught by one case above.
  const MUTATIONS: Mutation[] = [
    { name: 'aws-cdk-lib\'s rotation grant (GetRandomPassword) added', flips: GET_RANDOM_PASSWORD,
      mutate: (p) => addStatement(p, { Effect: 'Allow', Action: 'secretsmanager:GetRandomPassword', Resource: '*' }) },
    { name: 'secretsmanager:* instead of four actions', flips: DELETE_SECRET,
      mutate: (p) => { statementWith(p, 'secretsmanager:GetSecretValue').Action = 'secretsmanager:*'; } },
    { name: 'secretsmanager:RotateSecret added to the secret\'s actions', flips: ROTATE_SECRET,
      mutate: (p) => { const st = statementWith(p, 'secretsmanager:GetSecretValue'); st.Action = [...([] as string[]).concat(st.Action), 'secretsmanager:RotateSecret']; } },
    { name: 'every key\'s secret granted (the non-rotating key\'s too)', flips: GET_STATIC_SECRET,
      mutate: (p, env) => addStatement(p, { Effect: 'Allow', Action: SECRET_CALLS, Resource: env.staticSecret }) },
    { name: 'secret access widened to every secret of the account', flips: PUT_STATIC_SECRET,
      mutate: (p) => { statementWith(p, 'secretsmanager:PutSecretValue').Resource = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:*`; } },
    { name: 's3 read added for testSecret', flips: S3_LIST,
      mutate: (p) => addStatement(p, { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: ['arn:aws:s3:::app-bucket', 'arn:aws:s3:::app-bucket/*'] }) },
    { name: 'kms:ViaService condition dropped', flips: DECRYPT_WITHOUT_VIA,
      mutate: (p) => { delete statementWith(p, 'kms:Decrypt').Condition; } },
    { name: 'kms granted on every key of the account', flips: DECRYPT_STATIC_KEY,
      mutate: (p) => { statementWith(p, 'kms:Decrypt').Resource = `arn:aws:kms:${REGION}:${ACCOUNT}:key/*`; } },
    { name: 'bucket scope widened to every region', flips: CREATE_OTHER_REGION,
      mutate: (p) => { for (const st of statementsWith(p, 'lightsail:CreateBucketAccessKey')) { st.Resource = `arn:aws:lightsail:*:${ACCOUNT}:Bucket/*`; } } },
    { name: 'a non-rotating bucketName widens the rotation role too', flips: CREATE_OTHER_BUCKET, env: t,
      mutate: (p) => addStatement(p, { Effect: 'Allow', Action: ['lightsail:CreateBucketAccessKey', 'lightsail:DeleteBucketAccessKey'],
        Resource: `arn:aws:lightsail:${REGION}:${ACCOUNT}:Bucket/*` }) },
    { name: 'iam:PassRole added', flips: PASS_OWN_ROLE,
      mutate: (p) => addStatement(p, { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }) },
    { name: 'DescribeSecret left out (the handler\'s three actions only)', flips: DESCRIBE_BY_NAME,
      mutate: (p) => withdraw(p, 'secretsmanager:DescribeSecret') },
    { name: 'kms:GenerateDataKey left out (PutSecretValue would fail with a customer managed key)', flips: GENERATE,
      mutate: (p) => withdraw(p, 'kms:GenerateDataKey') },
    { name: 'the shared "*" read statement left off the rotation role', flips: GET_BUCKET_KEYS,
      mutate: (p) => withdraw(p, 'lightsail:GetBucketAccessKeys') },
    { name: 'key creation scoped to another bucket', flips: CREATE_KEY, env: t,
      mutate: (p) => { statementWith(p, 'lightsail:CreateBucketAccessKey').Resource = OTHER_BUCKET; } },
  ];

  test.each(MUTATIONS)('detects a broken policy: $name flips "$flips.name"', async ({ mutate, flips, env = s }) => {
    const policies = structuredClone(env.rotation.policies);
    mutate(policies, env);
    expectDecision(await decide(env, env.rotation, flips, policies), flips.expected === 'Allowed' ? 'Denied' : 'Allowed');
  });

  // Every case above can fail: withdrawing its action flips an Allowed, granting it on its resource flips a Denied.
  const everyCase = [
    ...ROTATION_IN_S.map((c) => ({ env: s, who: 'rotation' as const, c })),
    ...ROTATION_IN_T.map((c) => ({ env: t, who: 'rotation' as const, c })),
    ...HANDLER_IN_S.map((c) => ({ env: s, who: 'handler' as const, c })),
    ...HANDLER_IN_T.map((c) => ({ env: t, who: 'handler' as const, c })),
  ].map((x) => ({ ...x, name: `${x.who} role, stack ${x.env === s ? 'S' : 'T'}: ${x.c.expected}: ${x.c.name}` }));
  test.each(everyCase)('can fail: $name', async ({ env, who, c }) => {
    const policies = structuredClone(env[who].policies);
    if (c.expected === 'Allowed') {
      withdraw(policies, c.action);
    } else {
      addStatement(policies, { Effect: 'Allow', Action: c.action, Resource: c.resource(env) });
    }
    const decision = await decide(env, env[who], c, policies);
    // The role's own policy decides otherwise (a bucket of another account stays denied overall, for
    // want of a resource policy there), so the assertion on this case fails.
    expect(decision.identity).toEqual(c.expected === 'Allowed' ? 'ImplicitlyDenied' : 'Allowed');
    expect(() => expectDecision(decision, c.expected)).toThrow();
  });

  test.each([
    ['an action added', (p: IdentityPolicy[]) => addStatement(p, { Effect: 'Allow', Action: 'lightsail:GetBucketMetricData', Resource: '*' })],
    ['an action withdrawn', (p: IdentityPolicy[]) => withdraw(p, 'secretsmanager:UpdateSecretVersionStage')],
    ['a NotAction statement', (p: IdentityPolicy[]) => addStatement(p, { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } as unknown as PolicyStatement)],
  ])('detects a changed set of actions: %s', (_name, mutate) => {
    const policies = structuredClone(s.rotation.policies);
    mutate(policies);
    expect(() => expectExactlyTheRotationCalls(policies)).toThrow();
  });

  test.each(['s3:ListBucket', 's3:*', 'S3:List*', 's?:Get*', '*', '*:ListBucket'])('detects an s3 grant: %s', (action) => {
    const policies = structuredClone(s.rotation.policies);
    addStatement(policies, { Effect: 'Allow', Action: action, Resource: '*' });
    expect(() => expectNoS3(policies)).toThrow();
  });

  type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  const permissionId = (resources: Resources): string => Object.keys(resources).find((id) => resources[id].Type === 'AWS::Lambda::Permission')!;
  test.each([
    ['any principal', (r: Resources) => { r[permissionId(r)].Properties!.Principal = '*'; }],
    ['another service', (r: Resources) => { r[permissionId(r)].Properties!.Principal = 'events.amazonaws.com'; }],
    ['no source account', (r: Resources) => { delete r[permissionId(r)].Properties!.SourceAccount; }],
    ['another source account', (r: Resources) => { r[permissionId(r)].Properties!.SourceAccount = OTHER_ACCOUNT; }],
    ['another function', (r: Resources) => { r[permissionId(r)].Properties!.FunctionName = { 'Fn::GetAtt': ['OtherFunction', 'Arn'] }; }],
    ['another action', (r: Resources) => { r[permissionId(r)].Properties!.Action = 'lambda:*'; }],
    ['a second permission', (r: Resources) => { r.Second = structuredClone(r[permissionId(r)]); }],
    ['no permission', (r: Resources) => { delete r[permissionId(r)]; }],
  ])('detects a changed Lambda permission: %s', (_name, mutate) => {
    const resources = structuredClone(s.concrete.template.Resources) as Resources;
    mutate(resources);
    expect(() => expectOnlySecretsManagerMayInvoke(resources, s.rotationFunctionId)).toThrow();
  });

  const functionPolicyWith = (change: (statement: PolicyStatement) => void): PolicyDocument => {
    const policy = structuredClone(s.concrete.functionPolicy(s.rotationFunctionId));
    expect(policy.Statement).toHaveLength(1);
    change(policy.Statement[0]);
    return policy;
  };
  test.each([
    { name: 'SourceAccount dropped', flips: SECRETS_MANAGER_OTHER_ACCOUNT, change: (st: PolicyStatement) => { delete st.Condition; } },
    { name: 'SourceAccount dropped', flips: SECRETS_MANAGER_NO_SOURCE, change: (st: PolicyStatement) => { delete st.Condition; } },
    { name: 'another service principal', flips: OTHER_SERVICE,
      change: (st: PolicyStatement) => { st.Principal = { Service: ['secretsmanager.amazonaws.com', 'events.amazonaws.com'] }; } },
    { name: 'any principal', flips: OTHER_ACCOUNT_ROLE, change: (st: PolicyStatement) => { st.Principal = '*'; delete st.Condition; } },
    { name: 'every function', flips: ON_HANDLER, change: (st: PolicyStatement) => { st.Resource = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:*`; } },
  ])('detects a widened function policy: $name flips "$flips.name"', async ({ flips, change }) => {
    expect(await invoke(s, flips, functionPolicyWith(change))).toEqual('Allowed');
  });

  test('sees every statement of the rotation role\'s policy, with no intrinsic left', () => {
    const policies = s.template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: s.rotation.roleId }] } });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(s.rotation.policies.flatMap((p) => p.policy.Statement)).toHaveLength(statements.length);
    expect(JSON.stringify([s.rotation.policies, t.rotation.policies, s.concrete.functionPolicy(s.rotationFunctionId)])).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
    expect(new Set([s.rotatingSecret, s.byNameSecret, s.staticSecret]).size).toBe(3);
    expect(s.keyArn).not.toEqual(s.staticKeyArn);
  });
});
