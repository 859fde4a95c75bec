import { App, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { ExampleStack } from '../../bin/example-stack';
import { LightsailBucketAccessKey } from '../../lib';
import {
  actionsOf,
  customResourceId,
  ENV,
  handlerPolicy,
  handlerRoleId,
  identityPolicyStatements,
  keyPolicyStatements,
  newStack,
  RESOURCE_TYPE,
  resourcesOf,
  secretArnAfterKey,
  secretId,
} from './stack-fixture';

const SECRET_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'];
const CREATE = 'lightsail:CreateBucketAccessKey';
const DELETE = 'lightsail:DeleteBucketAccessKey';
/** The tag CloudFormation puts on the secrets it creates, valued with the stack's id. */
const OWN_SECRETS = { StringEquals: { 'aws:ResourceTag/aws:cloudformation:stack-id': { Ref: 'AWS::StackId' } } };
const ANY_BUCKET_HERE = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lightsail:us-east-1:123456789012:Bucket/*']] };
const ANY_SECRET_HERE = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:us-east-1:123456789012:secret:*']] };
const READ_ACTIONS = ['lightsail:GetBuckets', 'lightsail:GetBucketAccessKeys', 'lightsail:GetOperation'];

function newBucket(stack: Stack, id = 'Bucket', bucketName = 'my-bucket'): lightsail.CfnBucket {
  return new lightsail.CfnBucket(stack, id, { bucketName, bundleId: 'small_1_0' });
}

/** Least privilege over every IAM identity policy of the template. */
function expectLeastPrivilege(template: Template): void {
  const statements = identityPolicyStatements(template);
  expect(statements.length).toBeGreaterThan(0);
  const actions = statements.flatMap(actionsOf);
  expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  const onEverything = statements.filter((statement) => resourcesOf(statement).includes('*'));
  expect(onEverything).toEqual([{ Effect: 'Allow', Action: READ_ACTIONS, Resource: '*' }]);
  expect(JSON.stringify(template.toJSON())).not.toMatch(/secretsmanager:(DeleteSecret|CreateSecret)/);
}

describe('LightsailBucketAccessKey', () => {
  describe('with "bucket" and with "bucketName" in one stack', () => {
    let stack: Stack;
    let template: Template;
    let bucket: lightsail.CfnBucket;
    let ofBucket: LightsailBucketAccessKey;
    let ofName: LightsailBucketAccessKey;

    beforeAll(() => {
      stack = newStack();
      bucket = newBucket(stack);
      ofBucket = new LightsailBucketAccessKey(stack, 'OfBucket', { bucket, serial: 3 });
      ofName = new LightsailBucketAccessKey(stack, 'OfName', { bucketName: 'made-elsewhere', secretName: 'app/lightsail-key' });
      template = Template.fromStack(stack);
    });

    test('one custom resource and one secret per key', () => {
      template.resourceCountIs(RESOURCE_TYPE, 2);
      template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    });

    test('"bucket": BucketName is a Ref of the bucket, Serial is the string "3"', () => {
      template.templateMatches({
        Resources: {
          [customResourceId(ofBucket)]: {
            Type: RESOURCE_TYPE,
            Properties: Match.objectEquals({
              ServiceToken: Match.anyValue(),
              ServiceTimeout: '600',
              BucketName: { Ref: stack.getLogicalId(bucket) },
              SecretArn: { Ref: secretId(ofBucket) },
              Serial: '3',
            }),
          },
        },
      });
    });

    test('"bucketName": BucketName is the literal, and no Serial without "serial"', () => {
      template.templateMatches({
        Resources: {
          [customResourceId(ofName)]: {
            Type: RESOURCE_TYPE,
            Properties: Match.objectEquals({
              ServiceToken: Match.anyValue(),
              ServiceTimeout: '600',
              BucketName: 'made-elsewhere',
              SecretArn: { Ref: secretId(ofName) },
            }),
          },
        },
      });
      template.templateMatches({ Resources: { [customResourceId(ofName)]: { Properties: { Serial: Match.absent() } } } });
    });

    test('the secrets are created empty, with the AWS managed key', () => {
      template.allResourcesProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.absent(),
        SecretString: Match.absent(),
        KmsKeyId: Match.absent(),
      });
    });

    test('"secretName" is passed through; without it CloudFormation names the secret', () => {
      template.templateMatches({
        Resources: {
          [secretId(ofName)]: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'app/lightsail-key' } },
          [secretId(ofBucket)]: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: Match.absent() } },
        },
      });
    });

    test('each custom resource depends on the handler role policy that holds its grants', () => {
      const policyId = handlerPolicy(template).id;
      for (const key of [ofBucket, ofName]) {
        template.templateMatches({ Resources: { [customResourceId(key)]: { DependsOn: Match.arrayWith([policyId]) } } });
      }
    });

    test('default removal policy DESTROY deletes the custom resources and the secrets', () => {
      for (const key of [ofBucket, ofName]) {
        template.templateMatches({
          Resources: {
            [customResourceId(key)]: { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' },
            [secretId(key)]: { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' },
          },
        });
      }
    });

    test('the handler may read buckets and their keys on "*" (those actions have no resource type)', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: handlerRoleId(template) }],
        PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: READ_ACTIONS, Resource: '*' }]) },
      });
    });

    test('the handler may create keys of the buckets the keys name only: the bucket\'s ARN, or any bucket of the account and region for "bucketName"', () => {
      const creating = handlerPolicy(template).statements.filter((statement) => actionsOf(statement).includes(CREATE));
      expect(creating).toEqual([{
        Effect: 'Allow',
        Action: CREATE,
        Resource: [{ 'Fn::GetAtt': [stack.getLogicalId(bucket), 'BucketArn'] }, ANY_BUCKET_HERE],
      }]);
    });

    test('the handler may delete keys of any bucket of the account and region: a cleanup\'s bucket may be named by no resource any more', () => {
      const deleting = handlerPolicy(template).statements.filter((statement) => actionsOf(statement).includes(DELETE));
      expect(deleting).toEqual([{ Effect: 'Allow', Action: DELETE, Resource: ANY_BUCKET_HERE }]);
    });

    test('the handler may read and write the secrets of this stack only (CloudFormation\'s stack-id tag), in one statement', () => {
      const { statements } = handlerPolicy(template);
      const secretStatements = statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith('secretsmanager:')));
      expect(secretStatements).toEqual([{ Effect: 'Allow', Action: SECRET_ACTIONS, Resource: ANY_SECRET_HERE, Condition: OWN_SECRETS }]);
    });

    test('no wildcard action, "*" only for the read-only Lightsail actions, no secret creation or deletion', () => {
      expectLeastPrivilege(template);
    });

    test('accessKeyId is the AccessKeyId attribute of the custom resource', () => {
      expect(stack.resolve(ofBucket.accessKeyId)).toEqual({ 'Fn::GetAtt': [customResourceId(ofBucket), 'AccessKeyId'] });
      expect(stack.resolve(ofName.accessKeyId)).toEqual({ 'Fn::GetAtt': [customResourceId(ofName), 'AccessKeyId'] });
    });

    test('bucketName is the bucket\'s Ref or the literal', () => {
      expect(stack.resolve(ofBucket.bucketName)).toEqual({ Ref: stack.getLogicalId(bucket) });
      expect(ofName.bucketName).toEqual('made-elsewhere');
    });

    test('secret is the key\'s secret, handed out so that its users come after the key', () => {
      expect(stack.resolve(ofBucket.secret.secretArn)).toEqual(secretArnAfterKey(ofBucket));
      expect(stack.resolve(ofName.secret.secretArn)).toEqual(secretArnAfterKey(ofName));
    });
  });

  describe('provider', () => {
    test('one provider per stack, whatever the number of keys', () => {
      const stack = newStack();
      const bucket = newBucket(stack);
      new LightsailBucketAccessKey(stack, 'One', { bucket });
      new LightsailBucketAccessKey(stack, 'Two', { bucketName: 'two-elsewhere' });
      new LightsailBucketAccessKey(stack, 'Three', { bucket, serial: 1 });
      const template = Template.fromStack(stack);

      template.resourceCountIs(RESOURCE_TYPE, 3);
      template.resourceCountIs('AWS::SecretsManager::Secret', 3);
      // The onEvent handler and the provider framework's function.
      template.resourceCountIs('AWS::Lambda::Function', 2);
      template.resourceCountIs('AWS::Logs::LogGroup', 1);
      template.resourceCountIs('AWS::IAM::Role', 2);
      const tokens = Object.values(template.findResources(RESOURCE_TYPE)).map((resource) => JSON.stringify(resource.Properties.ServiceToken));
      expect(new Set(tokens).size).toBe(1);
      expectLeastPrivilege(template);
    });

    test('two stacks of one app each get their own provider', () => {
      const app = new App();
      const first = new Stack(app, 'First', { env: ENV });
      const second = new Stack(app, 'Second', { env: { account: '210987654321', region: 'eu-west-1' } });
      new LightsailBucketAccessKey(first, 'Key', { bucketName: 'first-bucket' });
      new LightsailBucketAccessKey(second, 'Key', { bucketName: 'second-bucket' });

      for (const stack of [first, second]) {
        const template = Template.fromStack(stack);
        template.resourceCountIs('AWS::Lambda::Function', 2);
        template.resourceCountIs('AWS::Logs::LogGroup', 1);
        const framework = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'framework.onEvent' } }));
        expect(framework).toHaveLength(1);
        template.hasResourceProperties(RESOURCE_TYPE, { ServiceToken: { 'Fn::GetAtt': [framework[0], 'Arn'] } });
      }
    });

    describe('resources', () => {
      let template: Template;

      beforeAll(() => {
        const stack = newStack();
        new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
        template = Template.fromStack(stack);
      });

      test('the onEvent handler: Node.js 24 on arm64, 5 minutes, logging to the provider\'s log group, no fixed name', () => {
        const logGroups = Object.keys(template.findResources('AWS::Logs::LogGroup'));
        expect(logGroups).toHaveLength(1);
        template.hasResourceProperties('AWS::Lambda::Function', {
          Handler: 'index.handler',
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Timeout: 300,
          Role: { 'Fn::GetAtt': [handlerRoleId(template), 'Arn'] },
          LoggingConfig: { LogGroup: { Ref: logGroups[0] } },
          FunctionName: Match.absent(),
        });
      });

      test('every function logs to the one log group', () => {
        const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup'))[0];
        template.allResourcesProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: logGroup } } });
      });

      test('the roles have no fixed name and no managed policy', () => {
        template.resourceCountIs('AWS::IAM::Role', 2);
        template.allResourcesProperties('AWS::IAM::Role', { RoleName: Match.absent(), ManagedPolicyArns: Match.absent() });
      });
    });
  });

  describe('removal policy RETAIN', () => {
    test('retains the custom resource and the secret, but a replaced key is still deleted', () => {
      const stack = newStack();
      const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere', removalPolicy: RemovalPolicy.RETAIN });
      Template.fromStack(stack).templateMatches({
        Resources: {
          [customResourceId(key)]: { Type: RESOURCE_TYPE, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Delete' },
          [secretId(key)]: { Type: 'AWS::SecretsManager::Secret', DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
        },
      });
    });
  });

  describe('in an environment-agnostic stack', () => {
    let stack: Stack;
    let template: Template;
    let bucket: lightsail.CfnBucket;
    let ofBucket: LightsailBucketAccessKey;
    let ofName: LightsailBucketAccessKey;

    beforeAll(() => {
      stack = newStack({});
      bucket = newBucket(stack);
      ofBucket = new LightsailBucketAccessKey(stack, 'OfBucket', { bucket });
      ofName = new LightsailBucketAccessKey(stack, 'OfName', { bucketName: 'made-elsewhere' });
      template = Template.fromStack(stack);
    });

    test('"bucketName": the key actions are granted on the buckets of the deployment\'s account and region', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: handlerRoleId(template) }],
        PolicyDocument: {
          Statement: Match.arrayWith([{
            Effect: 'Allow',
            Action: CREATE,
            Resource: Match.arrayWith([{
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lightsail:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':Bucket/*']],
            }]),
          }]),
        },
      });
    });

    test('"bucket": the key actions are granted on the bucket\'s ARN, and the key depends on the bucket', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([{ Effect: 'Allow', Action: CREATE, Resource: Match.arrayWith([{ 'Fn::GetAtt': [stack.getLogicalId(bucket), 'BucketArn'] }]) }]),
        },
      });
      template.templateMatches({
        Resources: { [customResourceId(ofBucket)]: { Properties: { BucketName: { Ref: stack.getLogicalId(bucket) } } } },
      });
    });

    test('the custom resources depend on the handler role policy', () => {
      const policyId = handlerPolicy(template).id;
      for (const key of [ofBucket, ofName]) {
        template.templateMatches({ Resources: { [customResourceId(key)]: { DependsOn: Match.arrayWith([policyId]) } } });
      }
    });

    test('least privilege', () => {
      expectLeastPrivilege(template);
    });
  });

  describe('with a customer managed KMS key', () => {
    let stack: Stack;
    let template: Template;
    let encryptionKey: kms.Key;
    let key: LightsailBucketAccessKey;
    let reader: iam.Role;
    let grant: iam.Grant;

    beforeAll(() => {
      stack = newStack();
      encryptionKey = new kms.Key(stack, 'EncryptionKey');
      key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere', encryptionKey });
      reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      grant = key.grantRead(reader);
      template = Template.fromStack(stack);
    });

    const keyLogicalId = () => stack.getLogicalId(encryptionKey.node.defaultChild as kms.CfnKey);
    const readerId = () => stack.getLogicalId(reader.node.defaultChild as iam.CfnRole);

    test('the secret is encrypted with the key', () => {
      template.templateMatches({
        Resources: { [secretId(key)]: { Properties: { KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(encryptionKey.node.defaultChild as kms.CfnKey), 'Arn'] } } } },
      });
    });

    test('the handler role may decrypt and generate data keys with the key, through Secrets Manager only', () => {
      expect(handlerPolicy(template).statements).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [keyLogicalId(), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
      });
      // Nothing is added to the key policy for the handler: its grant is in its own policy.
      const toHandler = keyPolicyStatements(template, keyLogicalId())
        .filter((statement) => JSON.stringify(statement.Principal).includes(handlerRoleId(template)));
      expect(toHandler).toEqual([]);
    });

    test('the custom resource waits for the KMS grant', () => {
      expect(template.findResources(RESOURCE_TYPE)[customResourceId(key)].DependsOn).toContain(handlerPolicy(template).id);
    });

    test('grantRead gives the role the secret\'s value and decryption through Secrets Manager', () => {
      expect(grant.success).toBe(true);
      const readerPolicy = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: readerId() }] } });
      const statements = Object.values(readerPolicy).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
      expect(statements).toContainEqual(
        { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: secretId(key) } });
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [keyLogicalId(), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
      });
    });

    test('the identity policies stay least privilege', () => {
      const statements = identityPolicyStatements(template);
      expect(statements.flatMap(actionsOf).filter((action) => action.includes('*'))).toEqual([]);
      expect(JSON.stringify(template.toJSON())).not.toMatch(/secretsmanager:(DeleteSecret|CreateSecret)/);
    });

    test('in an environment-agnostic stack the condition names the deployment\'s region', () => {
      const agnostic = newStack({});
      const agnosticKey = new kms.Key(agnostic, 'EncryptionKey');
      new LightsailBucketAccessKey(agnostic, 'Key', { bucketName: 'made-elsewhere', encryptionKey: agnosticKey });
      expect(handlerPolicy(Template.fromStack(agnostic)).statements).toContainEqual(expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      }));
    });

    test('an imported key is granted in the identity policies, whose key policy cannot be changed', () => {
      const imported = newStack();
      const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
      const importedKey = new LightsailBucketAccessKey(imported, 'Key', {
        bucketName: 'made-elsewhere', encryptionKey: kms.Key.fromKeyArn(imported, 'Imported', keyArn),
      });
      const importedReader = new iam.Role(imported, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      importedKey.grantRead(importedReader);
      const importedTemplate = Template.fromStack(imported);
      const condition = { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } };
      expect(handlerPolicy(importedTemplate).statements).toContainEqual(
        { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn, Condition: condition });
      importedTemplate.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: imported.getLogicalId(importedReader.node.defaultChild as iam.CfnRole) }],
        PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: condition }]) },
      });
    });
  });

  describe('grantRead without a customer managed key', () => {
    test('gives the secret\'s value and no KMS permission', () => {
      const stack = newStack();
      const key = new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
      const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      expect(key.grantRead(reader).success).toBe(true);
      const template = Template.fromStack(stack);

      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: stack.getLogicalId(reader.node.defaultChild as iam.CfnRole) }],
        PolicyDocument: {
          Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: secretId(key) } }],
        },
      });
      template.resourceCountIs('AWS::KMS::Key', 0);
      expect(JSON.stringify(template.toJSON())).not.toMatch(/"kms:/);
    });
  });

  describe('validation', () => {
    const newKey = (props: ConstructorParameters<typeof LightsailBucketAccessKey>[2], stack = newStack()) =>
      new LightsailBucketAccessKey(stack, 'Key', props);

    test('neither "bucket" nor "bucketName"', () => {
      expect(() => newKey({})).toThrow(/S\/Key: give exactly one of "bucket" .* and "bucketName"/);
    });

    test('both "bucket" and "bucketName"', () => {
      const stack = newStack();
      expect(() => newKey({ bucket: newBucket(stack), bucketName: 'my-bucket' }, stack)).toThrow(/give exactly one of "bucket" .* and "bucketName"/);
    });

    test.each([
      ['AB', /must be 3 to 54 characters long \(it has 2\)/],
      ['-abc', /start and end with a letter or digit/],
      ['abc-', /start and end with a letter or digit/],
      ['a--b', /must not contain two hyphens in a row/],
      ['Upper', /only lowercase letters, digits and hyphens/],
      ['a'.repeat(55), /must be 3 to 54 characters long \(it has 55\)/],
      ['amzn-s3-demo-x', /reserved prefix "amzn-s3-demo-"/],
      ['sthree-x', /reserved prefix "sthree-"/],
      ['x-s3alias', /reserved suffix "-s3alias"/],
      ['under_score', /only lowercase letters, digits and hyphens/],
    ])('"bucketName" %j is rejected', (bucketName, rule) => {
      const construct = () => newKey({ bucketName });
      expect(construct).toThrow(`"bucketName" "${bucketName}" is not a valid Lightsail bucket name`);
      expect(construct).toThrow(rule);
    });

    test.each(['abc', 'a'.repeat(54), '0-9', 'my-bucket-1'])('"bucketName" %j is accepted', (bucketName) => {
      expect(() => newKey({ bucketName })).not.toThrow();
    });

    test('a "bucketName" token is left to deploy time', () => {
      const stack = newStack();
      const parameter = new CfnParameter(stack, 'BucketNameParameter', { type: 'String' });
      const key = newKey({ bucketName: parameter.valueAsString }, stack);
      expect(stack.resolve(key.bucketName)).toEqual({ Ref: 'BucketNameParameter' });
      Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { BucketName: { Ref: 'BucketNameParameter' } });
    });

    test.each([-1, 1.5, NaN, Infinity])('"serial" %p is rejected', (serial) => {
      expect(() => newKey({ bucketName: 'my-bucket', serial })).toThrow(`"serial" must be a non-negative integer (got ${serial})`);
    });

    test('"serial" 0 is accepted and rendered as "0"', () => {
      const stack = newStack();
      newKey({ bucketName: 'my-bucket', serial: 0 }, stack);
      Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { Serial: '0' });
    });

    test('a numeric "serial" token is accepted and rendered through the token', () => {
      const stack = newStack();
      const parameter = new CfnParameter(stack, 'SerialParameter', { type: 'Number' });
      newKey({ bucketName: 'my-bucket', serial: parameter.valueAsNumber }, stack);
      Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { Serial: { Ref: 'SerialParameter' } });
    });

    test.each([
      ['has a space', /only letters, digits and the characters/],
      ['hash#sign', /only letters, digits and the characters/],
      ['a'.repeat(513), /must be 1 to 512 characters long \(it has 513\)/],
      ['', /must be 1 to 512 characters long \(it has 0\)/],
    ])('"secretName" %j is rejected', (secretName, rule) => {
      const construct = () => newKey({ bucketName: 'my-bucket', secretName });
      expect(construct).toThrow(`"secretName" "${secretName}"`);
      expect(construct).toThrow(rule);
    });

    test.each(['app/lightsail_key+=.@-1', 'a'.repeat(512)])('"secretName" %j is accepted', (secretName) => {
      expect(() => newKey({ bucketName: 'my-bucket', secretName })).not.toThrow();
    });

    test.each([RemovalPolicy.SNAPSHOT, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE])('"removalPolicy" %s is rejected', (removalPolicy) => {
      expect(() => newKey({ bucketName: 'my-bucket', removalPolicy })).toThrow(/"removalPolicy" must be RemovalPolicy.DESTROY or RemovalPolicy.RETAIN/);
    });

    test('a bucket of another region is rejected', () => {
      // aws-cdk-lib would synthesize this cross-region reference (Fn::GetStackOutput): only the construct stops it.
      const app = new App();
      const bucket = newBucket(new Stack(app, 'Europe', { env: { ...ENV, region: 'eu-west-1' } }));
      const stack = new Stack(app, 'America', { env: ENV });
      expect(() => newKey({ bucket }, stack)).toThrow(/"bucket" is in region eu-west-1 but this stack deploys to region us-east-1/);
    });

    test('a bucket of another account is rejected', () => {
      const app = new App();
      const bucket = newBucket(new Stack(app, 'Elsewhere', { env: { ...ENV, account: '210987654321' } }));
      const stack = new Stack(app, 'Here', { env: ENV });
      expect(() => newKey({ bucket }, stack)).toThrow(/"bucket" is in account 210987654321 but this stack deploys to account 123456789012/);
    });

    test('a bucket of another stack of the same region is accepted', () => {
      const app = new App();
      const bucket = newBucket(new Stack(app, 'Buckets', { env: ENV }));
      const stack = new Stack(app, 'Keys', { env: ENV });
      newKey({ bucket }, stack);
      Template.fromStack(stack).hasResourceProperties(RESOURCE_TYPE, { BucketName: { 'Fn::ImportValue': Match.stringLikeRegexp('Bucket') } });
    });
  });

  describe('the example stack', () => {
    let stack: ExampleStack;
    let template: Template;
    let key: LightsailBucketAccessKey;

    beforeAll(() => {
      stack = new ExampleStack(new App(), 'Example', { bucketName: 'example-bucket', env: ENV });
      key = stack.node.findChild('AppKey') as LightsailBucketAccessKey;
      template = Template.fromStack(stack);
    });

    test('one bucket and one key', () => {
      template.resourceCountIs('AWS::Lightsail::Bucket', 1);
      template.resourceCountIs(RESOURCE_TYPE, 1);
      template.hasResourceProperties(RESOURCE_TYPE, { BucketName: { Ref: Match.stringLikeRegexp('^Bucket') } });
    });

    test('outputs the access key id and the secret ARN', () => {
      template.hasOutput('AccessKeyId', { Value: { 'Fn::GetAtt': [customResourceId(key), 'AccessKeyId'] } });
      template.hasOutput('SecretArn', { Value: secretArnAfterKey(key) });
    });

    test('the application role may read the key\'s secret', () => {
      const appRoles = Object.keys(template.findResources('AWS::IAM::Role', {
        Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })] } },
      }));
      expect(appRoles).toHaveLength(1);
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: appRoles[0] }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: { Ref: secretId(key) },
          })]),
        },
      });
    });
  });
});
