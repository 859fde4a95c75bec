/**
 * Consumers after the key: whatever a consumer reads from a key to reach its credentials makes
 * CloudFormation create (and, in a serial bump, update) that consumer after the key's custom resource,
 * which has written the key into the secret. Before that the secret is empty: a dynamic reference fails
 * ("can't find the specified secret value for staging label: AWSCURRENT"), an ECS task cannot start,
 * and a consumer updated in a serial bump could still resolve the old key that the cleanup deletes.
 * Asserted on the template's dependency closure, i.e. on the order CloudFormation follows.
 */
import { App, CfnOutput, CfnResource, Duration, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { Construct } from 'constructs';
import { LightsailBucketAccessKey } from '../../lib';
import { TemplateJson, dependencyClosure, resourcesInCycles } from './dependency-closure';
import { ENV, customResourceId, newStack, secretArnAfterKey, secretId } from './stack-fixture';

const IMAGE = 'public.ecr.aws/docker/library/busybox:latest';

/** A Lightsail container service given only the secret access key (the id would order it by itself). */
function containerService(scope: Construct, id: string, key: LightsailBucketAccessKey): lightsail.CfnContainer {
  return new lightsail.CfnContainer(scope, id, {
    serviceName: 'app',
    power: 'nano',
    scale: 1,
    containerServiceDeployment: {
      containers: [{
        containerName: 'app',
        image: IMAGE,
        environment: [{ variable: 'AWS_SECRET_ACCESS_KEY', value: key.secretAccessKey.unsafeUnwrap() }],
      }],
    },
  });
}

/** An ECS task that reads the key from the secret at container start, and the service running it. */
function fargateService(scope: Construct, key: LightsailBucketAccessKey): { task: ecs.FargateTaskDefinition; service: ecs.FargateService } {
  const vpc = new ec2.Vpc(scope, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }] });
  const cluster = new ecs.Cluster(scope, 'Cluster', { vpc });
  const task = new ecs.FargateTaskDefinition(scope, 'Task');
  task.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry(IMAGE),
    secrets: { AWS_SECRET_ACCESS_KEY: ecs.Secret.fromSecretsManager(key.secret, 'secretAccessKey') },
  });
  const service = new ecs.FargateService(scope, 'Service', { cluster, taskDefinition: task, assignPublicIp: true });
  return { task, service };
}

/** A function told where the key is, in its environment. */
function functionWith(scope: Construct, id: string, environment: Record<string, string>): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => undefined;'),
    environment,
  });
}

function logicalId(construct: Construct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnResource;
  return Stack.of(element).getLogicalId(element);
}

describe('consumers of a key in its own stack come after the key\'s custom resource', () => {
  let stack: Stack;
  let key: LightsailBucketAccessKey;
  let template: TemplateJson;
  const consumers: Record<string, string> = {};

  beforeAll(() => {
    stack = newStack();
    const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'my-bucket', bundleId: 'small_1_0' });
    key = new LightsailBucketAccessKey(stack, 'Key', { bucket, serial: 1 });
    consumers.container = logicalId(containerService(stack, 'Container', key));
    const { task, service } = fargateService(stack, key);
    consumers.task = logicalId(task);
    consumers.service = logicalId(service);
    consumers.functionWithSecretAccessKey = logicalId(functionWith(stack, 'WithSecretAccessKey', { KEY: key.secretAccessKey.unsafeUnwrap() }));
    consumers.functionWithSecretArn = logicalId(functionWith(stack, 'WithSecretArn', { KEY_SECRET_ARN: key.secret.secretArn }));
    consumers.functionWithSecretFullArn = logicalId(functionWith(stack, 'WithSecretFullArn', { KEY_SECRET_ARN: key.secret.secretFullArn! }));
    consumers.functionWithSecretName = logicalId(functionWith(stack, 'WithSecretName', { KEY_SECRET_NAME: key.secret.secretName }));
    consumers.functionWithSecretValue = logicalId(functionWith(stack, 'WithSecretValue', {
      KEY_JSON: key.secret.secretValue.unsafeUnwrap(),
      KEY_ID: key.secret.secretValueFromJson('accessKeyId').unsafeUnwrap(),
    }));
    new CfnOutput(stack, 'AccessKeyId', { value: key.accessKeyId });
    new CfnOutput(stack, 'SecretArn', { value: key.secret.secretArn });
    template = Template.fromStack(stack).toJSON() as TemplateJson;
  });

  test.each([
    ['a Lightsail container service given secretAccessKey', 'container'],
    ['an ECS task definition given ecs.Secret.fromSecretsManager(key.secret)', 'task'],
    ['the ECS service running that task', 'service'],
    ['a function given secretAccessKey', 'functionWithSecretAccessKey'],
    ['a function given secret.secretArn', 'functionWithSecretArn'],
    ['a function given secret.secretFullArn', 'functionWithSecretFullArn'],
    ['a function given secret.secretName', 'functionWithSecretName'],
    ['a function given secret.secretValue and secretValueFromJson', 'functionWithSecretValue'],
  ])('%s', (_name, consumer) => {
    const closure = dependencyClosure(template, consumers[consumer]);
    expect(closure.has(customResourceId(key))).toBe(true);
  });

  test.each(['AccessKeyId', 'SecretArn'])('an output of %s', (output) => {
    expect(dependencyClosure(template, { value: template.Outputs![output].Value }).has(customResourceId(key))).toBe(true);
  });

  test('the values consumers get still resolve to the secret\'s own ARN: the reference only orders', () => {
    // Fn::Select picks the secret's Ref; the custom resource's attribute is there for the order alone.
    expect(stack.resolve(key.secret.secretArn)).toEqual({ 'Fn::Select': [0, [{ Ref: secretId(key) }, { 'Fn::GetAtt': [customResourceId(key), 'AccessKeyId'] }]] });
    expect(stack.resolve(key.secretAccessKey)).toEqual({
      'Fn::Join': ['', ['{{resolve:secretsmanager:', stack.resolve(key.secret.secretArn), ':SecretString:secretAccessKey::}}']],
    });
  });

  test('nothing the key itself needs waits for the custom resource: no dependency cycle', () => {
    expect(resourcesInCycles(template)).toEqual([]);
    const secret = secretId(key);
    expect(dependencyClosure(template, customResourceId(key)).has(secret)).toBe(true);
    expect(template.Resources[customResourceId(key)].Properties).toMatchObject({ SecretArn: { Ref: secret } });
  });
});

describe('ordering holds with everything at once', () => {
  test('a customer managed key, rotation, grants through key.secret and key.grantRead, onRotationFailed: no cycle, consumers after the key', () => {
    const stack = newStack();
    const encryptionKey = new kms.Key(stack, 'EncryptionKey');
    const key = new LightsailBucketAccessKey(stack, 'Key', {
      bucketName: 'made-elsewhere', serial: 3, encryptionKey, rotation: { automaticallyAfter: Duration.days(30) },
    });
    const reader = functionWith(stack, 'Reader', { KEY_SECRET_ARN: key.secret.secretArn });
    key.grantRead(reader);
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    key.secret.grantRead(writer);
    key.secret.grantWrite(writer);
    key.onRotationFailed('RotationFailed');
    fargateService(stack, key);
    const template = Template.fromStack(stack).toJSON() as TemplateJson;

    expect(resourcesInCycles(template)).toEqual([]);
    expect(dependencyClosure(template, logicalId(reader)).has(customResourceId(key))).toBe(true);
  });
});

describe('consumers elsewhere', () => {
  test('in a nested stack of the key\'s stack, the nested stack comes after the key', () => {
    const stack = newStack();
    const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
    const nested = new NestedStack(stack, 'Nested');
    containerService(nested, 'Container', key);
    functionWith(nested, 'Reader', { KEY_SECRET_ARN: key.secret.secretArn });
    const template = Template.fromStack(stack).toJSON() as TemplateJson;
    const [nestedId] = Object.keys(Template.fromStack(stack).findResources('AWS::CloudFormation::Stack'));

    expect(dependencyClosure(template, nestedId).has(customResourceId(key))).toBe(true);
  });

  test('in another stack, only the secret\'s ARN is imported: the stacks are ordered, and a serial bump may change the key id', () => {
    // CloudFormation refuses to change an export that another stack imports, so importing the access
    // key id for ordering alone would make every serial bump of the producer fail.
    const app = new App();
    const producer = new Stack(app, 'Producer', { env: ENV });
    const consumer = new Stack(app, 'Consumer', { env: ENV });
    const key = new LightsailBucketAccessKey(producer, 'Key', { bucketName: 'made-elsewhere', serial: 1 });
    containerService(consumer, 'Container', key);
    functionWith(consumer, 'Reader', { KEY_SECRET_ARN: key.secret.secretArn, KEY_SECRET_NAME: key.secret.secretName });
    const assembly = app.synth();

    const exported = Object.values(assembly.getStackByName('Producer').template.Outputs as Record<string, { Value: unknown; Export?: unknown }>)
      .filter((output) => output.Export).map((output) => output.Value);
    expect(exported).toEqual([{ Ref: secretId(key) }]);
    expect(consumer.dependencies).toEqual([producer]);
  });
});

describe('key.secret acts on the secret itself', () => {
  let stack: Stack;
  let key: LightsailBucketAccessKey;
  let encryptionKey: kms.Key;

  beforeEach(() => {
    stack = newStack();
    encryptionKey = new kms.Key(stack, 'EncryptionKey');
    key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere', encryptionKey });
  });

  test('its encryption key, environment and stack are the secret\'s', () => {
    expect(key.secret.encryptionKey).toBe(encryptionKey);
    expect(key.secret.stack).toBe(stack);
    expect(key.secret.env).toEqual({ account: ENV.account, region: ENV.region });
  });

  test('its other ways to name the secret also come after the key', () => {
    expect(stack.resolve(key.secret.secretRef.secretId)).toEqual(secretArnAfterKey(key));
    expect(stack.resolve(key.secret.cfnDynamicReferenceKey({ jsonField: 'accessKeyId' })))
      .toEqual({ 'Fn::Join': ['', [secretArnAfterKey(key), ':SecretString:accessKeyId::']] });
  });

  test('grantRead and grantWrite name the secret by its Ref, and decrypting goes to the key policy as before', () => {
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    key.secret.grantRead(role, ['AWSCURRENT']);
    key.secret.grantWrite(role);
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalId(role) }] } }));
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: secretId(key) },
        Condition: { 'ForAnyValue:StringEquals': { 'secretsmanager:VersionStage': ['AWSCURRENT'] } },
      },
      {
        Effect: 'Allow',
        Action: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecret', 'secretsmanager:UpdateSecretVersionStage'],
        Resource: { Ref: secretId(key) },
      },
    ]);
    const keyPolicy = template.findResources('AWS::KMS::Key')[logicalId(encryptionKey)].Properties.KeyPolicy.Statement as Array<{ Principal?: { AWS?: unknown }; Action: unknown }>;
    expect(keyPolicy.filter((statement) => JSON.stringify(statement.Principal?.AWS) === JSON.stringify({ 'Fn::GetAtt': [logicalId(role), 'Arn'] })).map((statement) => statement.Action))
      .toEqual(['kms:Decrypt', ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*']]);
  });

  test('resource policy statements go to the secret\'s own resource policy', () => {
    const added = key.secret.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'], resources: ['*'], principals: [new iam.AccountPrincipal('210987654321')],
    }));
    key.secret.denyAccountRootDelete();
    expect(added.statementAdded).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: { Ref: secretId(key) },
      ResourcePolicy: { Statement: [Match.objectLike({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue' }), Match.objectLike({ Effect: 'Deny', Action: 'secretsmanager:DeleteSecret' })] },
    });
  });

  test('applyRemovalPolicy applies to the secret', () => {
    key.secret.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Template.fromStack(stack).hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});
