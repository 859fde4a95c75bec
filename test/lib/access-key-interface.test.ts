/**
 * LightsailBucketAccessKey as an L2 `Resource` behind ILightsailBucketAccessKey: handed to another
 * stack, its secret access key as a dynamic reference, tags, removal policy.
 */
import { App, CfnOutput, CfnResource, RemovalPolicy, Resource, Stack, Tags } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { Construct } from 'constructs';
import { ILightsailBucketAccessKey, LightsailBucketAccessKey } from '../../lib';
import { customResourceId, ENV, newStack, secretArnAfterKey, secretId } from './stack-fixture';

const READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];

/** What a user's construct in another stack would do with a key: read it, pass its id on. */
class KeyConsumer extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, key: ILightsailBucketAccessKey) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    key.grantRead(this.role);
    new CfnOutput(this, 'AccessKeyId', { value: key.accessKeyId });
    new CfnOutput(this, 'SecretArn', { value: key.secret.secretArn });
    new CfnOutput(this, 'BucketName', { value: key.bucketName });
  }
}

interface Exported {
  readonly Value: unknown;
  readonly Export?: { Name: string };
}

describe('LightsailBucketAccessKey as an L2 resource', () => {
  test('is a Resource of its stack, in its stack\'s environment', () => {
    const stack = newStack();
    const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
    expect(Resource.isResource(key)).toBe(true);
    expect(key.stack).toBe(stack);
    expect(key.env).toEqual({ account: ENV.account, region: ENV.region });
  });

  describe.each([
    ['without a customer managed key', false],
    ['with a customer managed key', true],
  ])('handed to a construct of another stack of the same app, %s', (_name, withCmk) => {
    let app: App;
    let producer: Stack;
    let consumer: Stack;
    let key: LightsailBucketAccessKey;
    let encryptionKey: kms.Key | undefined;
    let producerTemplate: Template;
    let consumerTemplate: Template;
    let reader: KeyConsumer;

    beforeAll(() => {
      app = new App();
      producer = new Stack(app, 'Producer', { env: ENV });
      consumer = new Stack(app, 'Consumer', { env: ENV });
      const bucket = new lightsail.CfnBucket(producer, 'Bucket', { bucketName: 'my-bucket', bundleId: 'small_1_0' });
      encryptionKey = withCmk ? new kms.Key(producer, 'EncryptionKey') : undefined;
      key = new LightsailBucketAccessKey(producer, 'Key', { bucket, encryptionKey });
      reader = new KeyConsumer(consumer, 'Reader', key);
      // Synthesizing the whole app proves there is no dependency cycle between the stacks.
      const assembly = app.synth();
      producerTemplate = Template.fromJSON(assembly.getStackByName('Producer').template);
      consumerTemplate = Template.fromJSON(assembly.getStackByName('Consumer').template);
    });

    test('the consumer depends on the producer, never the reverse', () => {
      expect(consumer.dependencies).toEqual([producer]);
      expect(producer.dependencies).toEqual([]);
    });

    test('the producer exports the access key id and the secret ARN; the consumer imports them', () => {
      const outputs = producerTemplate.toJSON().Outputs as Record<string, Exported>;
      const exported = Object.values(outputs).filter((output) => output.Export);
      const exportedAs = (value: unknown): string => {
        const found = exported.find((output) => JSON.stringify(output.Value) === JSON.stringify(value));
        expect(found).toBeDefined();
        return found!.Export!.Name;
      };
      const accessKeyIdExport = exportedAs({ 'Fn::GetAtt': [customResourceId(key), 'AccessKeyId'] });
      const secretArnExport = exportedAs({ Ref: secretId(key) });
      const bucketExport = exportedAs({ Ref: 'Bucket' });

      const consumerOutputs = consumerTemplate.toJSON().Outputs as Record<string, Exported>;
      const valueOf = (prefix: string): unknown => Object.entries(consumerOutputs).find(([id]) => id.startsWith(prefix))![1].Value;
      expect(valueOf('ReaderAccessKeyId')).toEqual({ 'Fn::ImportValue': accessKeyIdExport });
      expect(valueOf('ReaderSecretArn')).toEqual({ 'Fn::ImportValue': secretArnExport });
      expect(valueOf('ReaderBucketName')).toEqual({ 'Fn::ImportValue': bucketExport });
    });

    test('grantRead in the consumer stack gives its role the producer\'s secret', () => {
      const statements = consumerTemplate.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: consumer.getLogicalId(reader.role.node.defaultChild as CfnResource) }] },
      });
      const [policy] = Object.values(statements);
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Action: READ_ACTIONS,
        Resource: { 'Fn::ImportValue': expect.stringContaining('KeySecret') },
      });
      const kmsStatements = policy.Properties.PolicyDocument.Statement.filter((statement: { Action: unknown }) => JSON.stringify(statement.Action).includes('kms:'));
      if (withCmk) {
        expect(kmsStatements).toContainEqual({
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::ImportValue': expect.stringContaining('EncryptionKey') },
          Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${ENV.region}.amazonaws.com` } },
        });
      } else {
        expect(kmsStatements).toEqual([]);
      }
    });
  });

  describe('secretAccessKey', () => {
    test('is a Secrets Manager dynamic reference to the secret\'s secretAccessKey field', () => {
      const stack = newStack();
      const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
      expect(stack.resolve(key.secretAccessKey)).toEqual({
        'Fn::Join': ['', ['{{resolve:secretsmanager:', secretArnAfterKey(key), ':SecretString:secretAccessKey::}}']],
      });
    });

    test('given to a container of a Lightsail container service, the template holds only the reference', () => {
      const stack = newStack();
      const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
      new lightsail.CfnContainer(stack, 'Service', {
        serviceName: 'app',
        power: 'nano',
        scale: 1,
        containerServiceDeployment: {
          containers: [{
            containerName: 'app',
            image: 'public.ecr.aws/docker/library/busybox:latest',
            environment: [
              { variable: 'AWS_ACCESS_KEY_ID', value: key.accessKeyId },
              { variable: 'AWS_SECRET_ACCESS_KEY', value: key.secretAccessKey.unsafeUnwrap() },
            ],
          }],
        },
      });
      const template = Template.fromStack(stack);
      const [container] = Object.values(template.findResources('AWS::Lightsail::Container'));
      expect(container.Properties.ContainerServiceDeployment.Containers[0].Environment[1]).toEqual({
        Variable: 'AWS_SECRET_ACCESS_KEY',
        Value: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', secretArnAfterKey(key), ':SecretString:secretAccessKey::}}']] },
      });
    });

    test('in another stack, the reference names the imported secret ARN', () => {
      const app = new App();
      const producer = new Stack(app, 'Producer', { env: ENV });
      const consumer = new Stack(app, 'Consumer', { env: ENV });
      const key = new LightsailBucketAccessKey(producer, 'Key', { bucketName: 'made-elsewhere' });
      new CfnResource(consumer, 'Thing', { type: 'AWS::SSM::Parameter', properties: { Type: 'String', Value: key.secretAccessKey.unsafeUnwrap() } });
      const template = app.synth().getStackByName('Consumer').template;
      expect(template.Resources.Thing.Properties.Value).toEqual({
        'Fn::Join': ['', ['{{resolve:secretsmanager:', { 'Fn::ImportValue': expect.stringContaining('KeySecret') }, ':SecretString:secretAccessKey::}}']],
      });
    });

    test('an ECS task takes the key from the secret at container start, with read access for the execution role', () => {
      const stack = newStack();
      const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
      const task = new ecs.FargateTaskDefinition(stack, 'Task');
      task.addContainer('app', {
        image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:latest'),
        secrets: {
          AWS_ACCESS_KEY_ID: ecs.Secret.fromSecretsManager(key.secret, 'accessKeyId'),
          AWS_SECRET_ACCESS_KEY: ecs.Secret.fromSecretsManager(key.secret, 'secretAccessKey'),
        },
      });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [Match.objectLike({
          Secrets: Match.arrayWith([{
            Name: 'AWS_SECRET_ACCESS_KEY',
            ValueFrom: { 'Fn::Join': ['', [secretArnAfterKey(key), ':secretAccessKey::']] },
          }]),
        })],
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: READ_ACTIONS, Resource: { Ref: secretId(key) } })]) },
      });
    });

    test('no template of the app holds anything but references to the secret access key', () => {
      const stack = newStack();
      const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
      new CfnOutput(stack, 'Id', { value: key.accessKeyId });
      new CfnResource(stack, 'Thing', { type: 'AWS::SSM::Parameter', properties: { Type: 'String', Value: key.secretAccessKey.unsafeUnwrap() } });
      const json = JSON.stringify(Template.fromStack(stack).toJSON());
      // Every mention of the field is the tail of a dynamic reference.
      expect(json.match(/secretAccessKey/g)).toHaveLength(1);
      expect(json).toContain(':SecretString:secretAccessKey::}}');
    });
  });

  test('Tags.of(key) reaches the secret', () => {
    const stack = newStack();
    const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
    Tags.of(key).add('team', 'storage');
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', { Tags: [{ Key: 'team', Value: 'storage' }] });
  });

  describe('applyRemovalPolicy', () => {
    test('RETAIN retains the key and its secret; a replaced key is still deleted', () => {
      const stack = newStack();
      const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
      key.applyRemovalPolicy(RemovalPolicy.RETAIN);
      const template = Template.fromStack(stack);
      template.hasResource('Custom::LightsailBucketAccessKey', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Delete' });
      template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    test('DESTROY after a RETAIN property deletes both again', () => {
      const stack = newStack();
      const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere', removalPolicy: RemovalPolicy.RETAIN });
      key.applyRemovalPolicy(RemovalPolicy.DESTROY);
      const template = Template.fromStack(stack);
      template.hasResource('Custom::LightsailBucketAccessKey', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    });

    test('SNAPSHOT is rejected like the removalPolicy property', () => {
      const key = new LightsailBucketAccessKey(newStack(), 'Key', { bucketName: 'made-elsewhere' });
      expect(() => key.applyRemovalPolicy(RemovalPolicy.SNAPSHOT))
        .toThrow('LightsailBucketAccessKey S/Key: "removalPolicy" must be RemovalPolicy.DESTROY or RemovalPolicy.RETAIN (got snapshot)');
    });
  });
});
