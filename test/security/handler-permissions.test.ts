/**
 * The synthesized IAM policies of the provider's two roles, evaluated by an IAM policy simulator
 * (@cloud-copilot/iam-simulate) on concrete ARNs: every call the handler makes is allowed, and what
 * it never needs is denied by the role's own policy.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey } from '../../lib';
import { ENV, handlerFunctionId, handlerPolicy, handlerRoleId, secretId } from '../lib/stack-fixture';
import {
  ACCOUNT, ConcreteTemplate, Decision, IdentityPolicy, OTHER_ACCOUNT, OTHER_REGION, PolicyDocument, PolicyStatement, REGION,
  simulate, uuidFor,
} from './iam-harness';

interface Principal {
  readonly arn: string;
  readonly policies: IdentityPolicy[];
}

interface Env {
  readonly concrete: ConcreteTemplate;
  readonly handler: Principal;
  readonly framework: Principal;
  readonly secretArn: string;
  readonly bucketArn: string;
  readonly keyArn: string;
  readonly keyPolicy: PolicyDocument;
  readonly handlerArn: string;
  readonly handlerRoleArn: string;
  readonly logGroupArn: string;
}

function synthesize(cmk: boolean): Env {
  // aws-cdk-lib's built-in CloudFormation validation is not what these tests check, and costs seconds.
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'S', { env: ENV });
  const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'app-bucket', bundleId: 'small_1_0' });
  const key = cmk ? new kms.Key(stack, 'K', { enableKeyRotation: true }) : undefined;
  const accessKey = cmk
    ? new LightsailBucketAccessKey(stack, 'Key', { bucket, encryptionKey: key })
    : new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'bucket-made-by-hand' });
  const template = Template.fromStack(stack);
  const concrete = new ConcreteTemplate(template.toJSON() as ConstructorParameters<typeof ConcreteTemplate>[0], 'S');
  const functions = template.findResources('AWS::Lambda::Function');
  const principal = (functionId: string): Principal => {
    const roleId = functions[functionId].Properties.Role['Fn::GetAtt'][0] as string;
    return { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${concrete.ref(roleId)}/${concrete.ref(functionId)}`, policies: concrete.rolePolicies(roleId) };
  };
  const frameworkId = Object.keys(functions).find((id) => functions[id].Properties.Handler === 'framework.onEvent')!;
  const keyId = key ? stack.getLogicalId(key.node.defaultChild as CfnElement) : undefined;
  return {
    concrete,
    handler: principal(handlerFunctionId(template)),
    framework: principal(frameworkId),
    secretArn: concrete.ref(secretId(accessKey)),
    bucketArn: concrete.getAtt(stack.getLogicalId(bucket), 'BucketArn'),
    keyArn: keyId ? concrete.getAtt(keyId, 'Arn') : `arn:aws:kms:${REGION}:${ACCOUNT}:key/${uuidFor('aws/secretsmanager')}`,
    keyPolicy: keyId ? concrete.keyPolicy(keyId) : delegatingKeyPolicy(),
    handlerArn: concrete.getAtt(handlerFunctionId(template), 'Arn'),
    handlerRoleArn: concrete.getAtt(handlerRoleId(template), 'Arn'),
    logGroupArn: concrete.getAtt(Object.keys(template.findResources('AWS::Logs::LogGroup'))[0], 'Arn'),
  };
}

/** The default key policy: the account's IAM policies decide. */
function delegatingKeyPolicy(): PolicyDocument {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }] };
}

const VIA_SECRETS_MANAGER = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` };
const OTHER_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/database-password-Xy12Zw`;
const OTHER_BUCKET = `arn:aws:lightsail:${REGION}:${ACCOUNT}:Bucket/${uuidFor('another bucket')}`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${uuidFor('another key')}`;
const logStream = (env: Env, group = env.logGroupArn): string => `${group.replace(/:\*$/, '')}:log-stream:2026/01/01/[$LATEST]0123abcd`;

interface Case {
  readonly name: string;
  readonly action: string;
  readonly resource: (env: Env) => string;
  readonly context?: Record<string, string>;
  /** Send the key's policy as the resource policy (KMS evaluates the key policy with the role's). */
  readonly kms?: boolean;
  readonly expected: 'Allowed' | 'Denied';
}

const allow = (name: string, action: string, resource: (env: Env) => string, extra: Partial<Case> = {}): Case => ({ name, action, resource, expected: 'Allowed', ...extra });
const deny = (name: string, action: string, resource: (env: Env) => string, extra: Partial<Case> = {}): Case => ({ name, action, resource, expected: 'Denied', ...extra });

function decide(env: Env, who: Principal, c: Case, policies = who.policies): Promise<Decision> {
  return simulate(who.arn, policies, { action: c.action, resource: c.resource(env), context: c.context, resourcePolicy: c.kms ? env.keyPolicy : undefined,
    resourceTags: env.concrete.tagsOf(c.resource(env)) });
}

/** Allowed overall; or denied both overall and by the role's own policies (not merely by a missing resource policy). */
function expectDecision(decision: Decision, expected: Case['expected']): void {
  expect(decision).toEqual(expected === 'Allowed'
    ? { result: 'Allowed', identity: 'Allowed' }
    : { result: 'ImplicitlyDenied', identity: 'ImplicitlyDenied' });
}

const everywhere = (): string => '*';
const secret = (env: Env): string => env.secretArn;
const bucketArn = (env: Env): string => env.bucketArn;
const keyArn = (env: Env): string => env.keyArn;

const anyBucketIn = (region: string, account: string) => (): string => `arn:aws:lightsail:${region}:${account}:Bucket/${uuidFor(`${region}${account}`)}`;

// Handler role, key of an app bucket encrypted with a customer managed key.
const GET_BUCKETS = allow('lightsail:GetBuckets on "*"', 'lightsail:GetBuckets', everywhere);
const CREATE_OTHER_BUCKET = deny('lightsail:CreateBucketAccessKey on another bucket of the account and region', 'lightsail:CreateBucketAccessKey', () => OTHER_BUCKET);
const GET_OTHER_SECRET = deny('secretsmanager:GetSecretValue on another secret of the account', 'secretsmanager:GetSecretValue', () => OTHER_SECRET);
const DELETE_SECRET = deny('secretsmanager:DeleteSecret on the key\'s secret', 'secretsmanager:DeleteSecret', secret);
const DECRYPT_WITHOUT_VIA = deny('kms:Decrypt on the key without kms:ViaService', 'kms:Decrypt', keyArn, { kms: true });
const HANDLER_WITH_CMK: Case[] = [
  GET_BUCKETS,
  allow('lightsail:GetBucketAccessKeys on "*"', 'lightsail:GetBucketAccessKeys', everywhere),
  allow('lightsail:GetOperation on "*" (lambda/operations.ts: no resource type)', 'lightsail:GetOperation', everywhere),
  allow('lightsail:CreateBucketAccessKey on the bucket', 'lightsail:CreateBucketAccessKey', bucketArn),
  allow('lightsail:DeleteBucketAccessKey on the bucket', 'lightsail:DeleteBucketAccessKey', bucketArn),
  allow('secretsmanager:GetSecretValue on the key\'s secret', 'secretsmanager:GetSecretValue', secret),
  allow('secretsmanager:PutSecretValue on the key\'s secret', 'secretsmanager:PutSecretValue', secret),
  allow('secretsmanager:UpdateSecretVersionStage on the key\'s secret', 'secretsmanager:UpdateSecretVersionStage', secret),
  allow('kms:Decrypt on the key through Secrets Manager', 'kms:Decrypt', keyArn, { kms: true, context: VIA_SECRETS_MANAGER }),
  allow('kms:GenerateDataKey on the key through Secrets Manager', 'kms:GenerateDataKey', keyArn, { kms: true, context: VIA_SECRETS_MANAGER }),
  allow('logs:CreateLogStream in the provider\'s log group', 'logs:CreateLogStream', (env) => logStream(env)),
  allow('logs:PutLogEvents in the provider\'s log group', 'logs:PutLogEvents', (env) => logStream(env)),
  DELETE_SECRET,
  deny('secretsmanager:CreateSecret on the key\'s secret', 'secretsmanager:CreateSecret', secret),
  GET_OTHER_SECRET,
  deny('secretsmanager:PutSecretValue on another secret of the account', 'secretsmanager:PutSecretValue', () => OTHER_SECRET),
  deny('secretsmanager:UpdateSecretVersionStage on another secret of the account', 'secretsmanager:UpdateSecretVersionStage', () => OTHER_SECRET),
  CREATE_OTHER_BUCKET,
  // Deliberate (lib/key-grants.ts): a cleanup's old bucket may be named by no resource of the new template.
  allow('lightsail:DeleteBucketAccessKey on another bucket of the account and region (a moved key\'s old bucket)', 'lightsail:DeleteBucketAccessKey', () => OTHER_BUCKET),
  deny('lightsail:DeleteBucketAccessKey on a bucket in another region', 'lightsail:DeleteBucketAccessKey', anyBucketIn(OTHER_REGION, ACCOUNT)),
  deny('lightsail:DeleteBucket on the bucket', 'lightsail:DeleteBucket', bucketArn),
  DECRYPT_WITHOUT_VIA,
  deny('kms:GenerateDataKey on the key without kms:ViaService', 'kms:GenerateDataKey', keyArn, { kms: true }),
  deny('kms:Decrypt on the key through another service (SSM)', 'kms:Decrypt', keyArn, { kms: true, context: { 'kms:ViaService': `ssm.${REGION}.amazonaws.com` } }),
  deny('kms:Decrypt on another key through Secrets Manager', 'kms:Decrypt', () => OTHER_KEY, { kms: true, context: VIA_SECRETS_MANAGER }),
  deny('iam:PassRole on the handler\'s own role', 'iam:PassRole', (env) => env.handlerRoleArn),
  deny('logs:PutLogEvents in another log group', 'logs:PutLogEvents', (env) => logStream(env, `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:other:*`)),
];

// Handler role, key of a bucket known only by name, no customer managed key.
const CREATE_OTHER_REGION = deny('lightsail:CreateBucketAccessKey on a bucket in another region', 'lightsail:CreateBucketAccessKey', anyBucketIn(OTHER_REGION, ACCOUNT));
const HANDLER_WITH_BUCKET_NAME: Case[] = [
  allow('lightsail:CreateBucketAccessKey on ANY bucket of the stack\'s account and region (the known, documented scope of bucketName)',
    'lightsail:CreateBucketAccessKey', anyBucketIn(REGION, ACCOUNT)),
  allow('lightsail:DeleteBucketAccessKey on ANY bucket of the stack\'s account and region (the known, documented scope of bucketName)',
    'lightsail:DeleteBucketAccessKey', anyBucketIn(REGION, ACCOUNT)),
  allow('lightsail:GetBucketAccessKeys on "*"', 'lightsail:GetBucketAccessKeys', everywhere),
  allow('secretsmanager:PutSecretValue on the key\'s secret', 'secretsmanager:PutSecretValue', secret),
  CREATE_OTHER_REGION,
  deny('lightsail:DeleteBucketAccessKey on a bucket in another region', 'lightsail:DeleteBucketAccessKey', anyBucketIn(OTHER_REGION, ACCOUNT)),
  deny('lightsail:CreateBucketAccessKey on a bucket in another account', 'lightsail:CreateBucketAccessKey', anyBucketIn(REGION, OTHER_ACCOUNT)),
  deny('lightsail:DeleteBucketAccessKey on a bucket in another account', 'lightsail:DeleteBucketAccessKey', anyBucketIn(REGION, OTHER_ACCOUNT)),
  deny('kms:Decrypt through Secrets Manager on any key (no customer managed key, no KMS grant)', 'kms:Decrypt', keyArn, { kms: true, context: VIA_SECRETS_MANAGER }),
  GET_OTHER_SECRET,
];

// Provider framework's role.
const INVOKE_OTHER_FUNCTION = deny('lambda:InvokeFunction on another function of the account', 'lambda:InvokeFunction', () => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:other`);
const FRAMEWORK: Case[] = [
  allow('lambda:InvokeFunction on the handler', 'lambda:InvokeFunction', (env) => env.handlerArn),
  allow('lambda:InvokeFunction on an alias of the handler', 'lambda:InvokeFunction', (env) => `${env.handlerArn}:live`),
  allow('lambda:GetFunction on the handler', 'lambda:GetFunction', (env) => env.handlerArn),
  INVOKE_OTHER_FUNCTION,
  deny('lambda:InvokeFunction on a function whose name extends the handler\'s', 'lambda:InvokeFunction', (env) => `${env.handlerArn}-copy`),
  deny('secretsmanager:GetSecretValue on the key\'s secret', 'secretsmanager:GetSecretValue', secret),
  deny('lightsail:CreateBucketAccessKey on the bucket', 'lightsail:CreateBucketAccessKey', bucketArn),
];

const withCmk = synthesize(true);
const withBucketName = synthesize(false);

describe('handler role (bucket of the app, customer managed key)', () => {
  test.each(HANDLER_WITH_CMK)('$expected: $name', async (c) => {
    expectDecision(await decide(withCmk, withCmk.handler, c), c.expected);
  });
});

describe('handler role (bucketName only, default aws/secretsmanager key)', () => {
  test.each(HANDLER_WITH_BUCKET_NAME)('$expected: $name', async (c) => {
    expectDecision(await decide(withBucketName, withBucketName.handler, c), c.expected);
  });
});

describe('provider framework role', () => {
  test.each(FRAMEWORK)('$expected: $name', async (c) => {
    expectDecision(await decide(withCmk, withCmk.framework, c), c.expected);
  });
});

describe('the simulation harness', () => {
  const statementWith = (policies: IdentityPolicy[], action: string): PolicyStatement => {
    const found = policies.flatMap((p) => p.policy.Statement).find((s) => ([] as string[]).concat(s.Action).includes(action));
    if (!found) {
      throw new Error(`no statement grants ${action}`);
    }
    return found;
  };
  interface Mutation {
    readonly name: string;
    readonly flips: Case;
    readonly mutate: (policies: IdentityPolicy[]) => void;
    readonly env?: Env;
    readonly who?: 'handler' | 'framework';
  }
  const MUTATIONS: Mutation[] = [
    { name: 'key creation widened to every bucket', flips: CREATE_OTHER_BUCKET,
      mutate: (p) => { statementWith(p, 'lightsail:CreateBucketAccessKey').Resource = 'arn:aws:lightsail:*:*:Bucket/*'; } },
    { name: 'bucketName scope widened to every region', flips: CREATE_OTHER_REGION, env: withBucketName,
      mutate: (p) => { statementWith(p, 'lightsail:CreateBucketAccessKey').Resource = `arn:aws:lightsail:*:${ACCOUNT}:Bucket/*`; } },
    { name: 'secret access widened to every secret (the stack-id tag condition dropped)', flips: GET_OTHER_SECRET,
      mutate: (p) => { delete statementWith(p, 'secretsmanager:GetSecretValue').Condition; } },
    { name: 'secretsmanager:* instead of three actions', flips: DELETE_SECRET,
      mutate: (p) => { statementWith(p, 'secretsmanager:GetSecretValue').Action = 'secretsmanager:*'; } },
    { name: 'kms:ViaService condition dropped', flips: DECRYPT_WITHOUT_VIA,
      mutate: (p) => { delete statementWith(p, 'kms:Decrypt').Condition; } },
    { name: 'lightsail:GetBuckets removed (narrowed)', flips: GET_BUCKETS,
      mutate: (p) => { const s = statementWith(p, 'lightsail:GetBuckets'); s.Action = ([] as string[]).concat(s.Action).filter((a) => a !== 'lightsail:GetBuckets'); } },
    { name: 'framework invoke widened to every function', flips: INVOKE_OTHER_FUNCTION, who: 'framework',
      mutate: (p) => { statementWith(p, 'lambda:InvokeFunction').Resource = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:*`; } },
  ];

  test.each(MUTATIONS)('detects a broken policy: $name flips "$flips.name"', async ({ mutate, flips, env = withCmk, who = 'handler' }) => {
    const policies = structuredClone(env[who].policies);
    mutate(policies);
    const decision = await decide(env, env[who], flips, policies);
    expectDecision(decision, flips.expected === 'Allowed' ? 'Denied' : 'Allowed');
  });

  test('sees every statement of the handler role\'s policy, with no intrinsic left', () => {
    const template = Template.fromJSON(withCmk.concrete.template as unknown as Record<string, unknown>);
    const simulated = withCmk.handler.policies.flatMap((p) => p.policy.Statement);
    expect(simulated).toHaveLength(handlerPolicy(template).statements.length);
    expect(JSON.stringify(withCmk.handler.policies)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
    expect(withCmk.secretArn).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:[\\w-]+-[A-Za-z]{6}$`));
    expect(withCmk.bucketArn).toMatch(new RegExp(`^arn:aws:lightsail:${REGION}:${ACCOUNT}:Bucket/[0-9a-f-]{36}$`));
  });

  test('refuses intrinsics it does not resolve, and context keys that do not apply to the action', async () => {
    expect(() => withCmk.concrete.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::x' })).toThrow(/Fn::Sub is not supported/);
    await expect(decide(withCmk, withCmk.handler, { ...GET_BUCKETS, context: VIA_SECRETS_MANAGER })).rejects.toThrow(/do not apply/);
  });
});
