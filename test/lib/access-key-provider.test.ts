import * as fs from 'fs';
import * as path from 'path';
import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LightsailBucketAccessKey, LightsailBucketAccessKeyProvider } from '../../lib';
import { HANDLER_ASSET_DIR } from '../../lib/handler-assets';
import { actionsOf, customResourceId, ENV, handlerFunctionId, handlerPolicy, handlerRoleId, identityPolicyStatements, newStack } from './stack-fixture';

describe('LightsailBucketAccessKeyProvider', () => {
  test('the handler bundle exists (run `npm run build` first)', () => {
    expect(fs.existsSync(path.join(HANDLER_ASSET_DIR, 'index.js'))).toBe(true);
  });

  describe('of', () => {
    test('returns one provider per stack, at the stack\'s root, whatever the scope', () => {
      const stack = newStack();
      const deep = new Construct(new Construct(stack, 'A'), 'B');
      const provider = LightsailBucketAccessKeyProvider.of(stack);
      expect(LightsailBucketAccessKeyProvider.of(deep)).toBe(provider);
      expect(LightsailBucketAccessKeyProvider.of(new Construct(stack, 'C'))).toBe(provider);
      expect(provider.node.scope).toBe(stack);
      expect(provider.node.id).toBe('LightsailBucketAccessKeyProvider');
    });

    test('returns a different provider for each stack of an app', () => {
      const app = new App();
      const first = LightsailBucketAccessKeyProvider.of(new Stack(app, 'First', { env: ENV }));
      const second = LightsailBucketAccessKeyProvider.of(new Stack(app, 'Second', { env: ENV }));
      expect(second).not.toBe(first);
      expect(Stack.of(first).stackName).toBe('First');
      expect(Stack.of(second).stackName).toBe('Second');
    });
  });

  describe('resources', () => {
    let stack: Stack;
    let provider: LightsailBucketAccessKeyProvider;
    let template: Template;

    beforeAll(() => {
      stack = newStack();
      provider = LightsailBucketAccessKeyProvider.of(stack);
      template = Template.fromStack(stack);
    });

    test('two functions, two roles, one log group', () => {
      template.resourceCountIs('AWS::Lambda::Function', 2);
      template.resourceCountIs('AWS::IAM::Role', 2);
      template.resourceCountIs('AWS::Logs::LogGroup', 1);
    });

    test('the service token is the framework function\'s ARN', () => {
      const framework = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'framework.onEvent' } }));
      expect(framework).toHaveLength(1);
      expect(stack.resolve(provider.serviceToken)).toEqual({ 'Fn::GetAtt': [framework[0], 'Arn'] });
    });

    test('onEventFunction is the onEvent handler, with its role', () => {
      expect(stack.resolve(provider.onEventFunction.functionArn)).toEqual({ 'Fn::GetAtt': [handlerFunctionId(template), 'Arn'] });
      expect(stack.resolve((provider.onEventFunction.role as iam.Role).roleArn)).toEqual({ 'Fn::GetAtt': [handlerRoleId(template), 'Arn'] });
    });

    test('the onEvent handler', () => {
      template.templateMatches({
        Resources: {
          [handlerFunctionId(template)]: {
            Properties: {
              Handler: 'index.handler',
              Runtime: 'nodejs24.x',
              Architectures: ['arm64'],
              MemorySize: 256,
              Timeout: 300,
              FunctionName: Match.absent(),
            },
          },
        },
      });
    });

    test('the log group keeps a month of logs and goes with the stack', () => {
      template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Delete' });
    });

    test('the handler role may write to the log group and read Lightsail buckets, and nothing more before a key exists', () => {
      const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup'))[0];
      expect(handlerPolicy(template).statements).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] } },
        { Effect: 'Allow', Action: ['lightsail:GetBuckets', 'lightsail:GetBucketAccessKeys', 'lightsail:GetOperation'], Resource: '*' },
      ]);
    });

    test('the framework role may invoke the handler and write to the log group', () => {
      const handler = handlerFunctionId(template);
      const frameworkRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id !== handlerRoleId(template))!;
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: frameworkRole }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] }),
            Match.objectLike({ Action: 'lambda:InvokeFunction', Resource: Match.arrayWith([{ 'Fn::GetAtt': [handler, 'Arn'] }]) }),
          ]),
        },
      });
    });

    test('no wildcard action, no fixed role name, no managed policy', () => {
      expect(identityPolicyStatements(template).flatMap(actionsOf).filter((action) => action.includes('*'))).toEqual([]);
      template.allResourcesProperties('AWS::IAM::Role', { RoleName: Match.absent(), ManagedPolicyArns: Match.absent() });
    });
  });

  describe('properties', () => {
    test('"logRetention" sets the shared log group\'s retention', () => {
      const stack = newStack();
      new LightsailBucketAccessKeyProvider(stack, 'Provider', { logRetention: logs.RetentionDays.ONE_YEAR });
      Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    test('"logGroup": all three functions log to the given log group, whose writes their roles may make; the provider makes none', () => {
      const stack = newStack();
      const logGroup = new logs.LogGroup(stack, 'Given', { retention: logs.RetentionDays.TWO_WEEKS });
      const provider = new LightsailBucketAccessKeyProvider(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID, { logGroup });
      new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere', rotation: { automaticallyAfter: Duration.days(30) } });
      const template = Template.fromStack(stack);
      const [given] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
      expect(given).toMatch(/^Given/);
      template.resourceCountIs('AWS::Logs::LogGroup', 1);
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(3);
      for (const fn of functions) {
        expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: given });
      }
      const writers = identityPolicyStatements(template).filter((statement) => actionsOf(statement).includes('logs:PutLogEvents'));
      expect(writers).toHaveLength(3);
      for (const statement of writers) {
        expect(statement.Resource).toEqual({ 'Fn::GetAtt': [given, 'Arn'] });
      }
      expect(provider.node.tryFindChild('Logs')).toBeUndefined();
    });

    test('an imported "logGroup" works too: the roles may write to its ARN', () => {
      const stack = newStack();
      const logGroup = logs.LogGroup.fromLogGroupName(stack, 'Imported', 'shared-logs');
      new LightsailBucketAccessKeyProvider(stack, 'Provider', { logGroup });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Logs::LogGroup', 0);
      template.allResourcesProperties('AWS::Lambda::Function', { LoggingConfig: Match.objectLike({ LogGroup: 'shared-logs' }) });
    });

    test('"logGroup" and "logRetention" together are rejected, naming both', () => {
      const stack = newStack();
      const logGroup = new logs.LogGroup(stack, 'Given');
      expect(() => new LightsailBucketAccessKeyProvider(stack, 'Provider', { logGroup, logRetention: logs.RetentionDays.ONE_YEAR }))
        .toThrow('LightsailBucketAccessKeyProvider S/Provider: give "logGroup" or "logRetention", not both: set the retention on the log group you pass');
    });

    test('"vpcSubnets" without "vpc" is rejected, naming both', () => {
      expect(() => new LightsailBucketAccessKeyProvider(newStack(), 'Provider', { vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }))
        .toThrow('LightsailBucketAccessKeyProvider S/Provider: "vpcSubnets" needs "vpc": the subnets are selected from it');
    });

    test('"securityGroups" without "vpc" is rejected, naming both', () => {
      const stack = newStack();
      const group = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Group', 'sg-12345678');
      expect(() => new LightsailBucketAccessKeyProvider(stack, 'Provider', { securityGroups: [group] }))
        .toThrow('LightsailBucketAccessKeyProvider S/Provider: "securityGroups" needs "vpc": security groups apply only to functions in a VPC');
    });
  });

  describe('in a VPC', () => {
    let stack: Stack;
    let template: Template;
    let vpc: ec2.Vpc;
    let group: ec2.SecurityGroup;

    beforeAll(() => {
      stack = newStack();
      vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
      group = new ec2.SecurityGroup(stack, 'Group', { vpc });
      const provider = new LightsailBucketAccessKeyProvider(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID, {
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [group],
      });
      new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere', rotation: { automaticallyAfter: Duration.days(30) } });
      expect(provider.rotationFunction).toBeDefined();
      template = Template.fromStack(stack);
    });

    test('all three functions (handler, rotation, framework) run in the private subnets with the security groups', () => {
      const functions = template.findResources('AWS::Lambda::Function');
      expect(Object.keys(functions)).toHaveLength(3);
      const privateSubnets = vpc.privateSubnets.map((subnet) => stack.resolve(subnet.subnetId));
      expect(privateSubnets).toHaveLength(2);
      for (const fn of Object.values(functions)) {
        expect(fn.Properties.VpcConfig).toEqual({
          SubnetIds: privateSubnets,
          SecurityGroupIds: [stack.resolve(group.securityGroupId)],
        });
      }
    });

    test('each function\'s role may manage the function\'s network interfaces, and the function waits for that permission', () => {
      const eniActions = [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ];
      const functions = template.findResources('AWS::Lambda::Function');
      for (const fn of Object.values(functions)) {
        const roleId = fn.Properties.Role['Fn::GetAtt'][0];
        const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
        const [policyId] = Object.keys(policies);
        expect(policies[policyId].Properties.PolicyDocument.Statement).toContainEqual({ Effect: 'Allow', Action: eniActions, Resource: '*' });
        expect(fn.DependsOn).toEqual(expect.arrayContaining([policyId, roleId]));
      }
      // Not through the AWS managed policy, which would also allow writing to any log group.
      template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    });

    test('without "securityGroups", each function gets its own security group in the VPC', () => {
      const other = newStack();
      const otherVpc = new ec2.Vpc(other, 'Vpc', { maxAzs: 2 });
      new LightsailBucketAccessKeyProvider(other, 'Provider', { vpc: otherVpc });
      const otherTemplate = Template.fromStack(other);
      otherTemplate.resourceCountIs('AWS::EC2::SecurityGroup', 2);
      for (const fn of Object.values(otherTemplate.findResources('AWS::Lambda::Function'))) {
        expect(fn.Properties.VpcConfig.SecurityGroupIds).toHaveLength(1);
        expect(fn.Properties.VpcConfig.SubnetIds).toEqual(otherVpc.privateSubnets.map((subnet) => other.resolve(subnet.subnetId)));
      }
    });

    test('outside a VPC, no function has a VpcConfig and no role may manage network interfaces', () => {
      const plain = newStack();
      new LightsailBucketAccessKey(plain, 'Key', { bucketName: 'made-elsewhere', rotation: { automaticallyAfter: Duration.days(30) } });
      const plainTemplate = Template.fromStack(plain);
      plainTemplate.allResourcesProperties('AWS::Lambda::Function', { VpcConfig: Match.absent() });
      expect(JSON.stringify(plainTemplate.toJSON())).not.toContain('ec2:');
    });
  });

  describe('the stack\'s default and explicit providers', () => {
    test('a provider created under DEFAULT_ID at the stack root is the default: keys use it, and the logical ids are the default ones', () => {
      const configured = newStack();
      const provider = new LightsailBucketAccessKeyProvider(configured, LightsailBucketAccessKeyProvider.DEFAULT_ID, { logRetention: logs.RetentionDays.ONE_YEAR });
      expect(LightsailBucketAccessKeyProvider.of(configured)).toBe(provider);
      new LightsailBucketAccessKey(configured, 'Key', { bucketName: 'made-elsewhere' });

      const byDefault = newStack();
      new LightsailBucketAccessKey(byDefault, 'Key', { bucketName: 'made-elsewhere' });

      const configuredResources = Template.fromStack(configured).toJSON().Resources;
      const defaultResources = Template.fromStack(byDefault).toJSON().Resources;
      expect(Object.keys(configuredResources).sort()).toEqual(Object.keys(defaultResources).sort());
      expect(configuredResources.Key961B73FD.Properties.ServiceToken).toEqual(defaultResources.Key961B73FD.Properties.ServiceToken);
    });

    test('the configured default provider after a key already created the default one is an error that says what to do', () => {
      const stack = newStack();
      new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere' });
      expect(() => new LightsailBucketAccessKeyProvider(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID, {}))
        .toThrow(/S\/LightsailBucketAccessKeyProvider: the stack's default provider already exists, created by a key given no "provider": create the configured default provider before the first key/);
    });

    test('of() refuses another construct that holds the default id', () => {
      const stack = newStack();
      new Construct(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID);
      expect(() => LightsailBucketAccessKeyProvider.of(stack)).toThrow(/S\/LightsailBucketAccessKeyProvider is not a LightsailBucketAccessKeyProvider/);
    });

    test('a key given a provider with another id uses it; no default provider is created', () => {
      const stack = newStack();
      const provider = new LightsailBucketAccessKeyProvider(stack, 'Custom');
      new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere', provider });
      expect(stack.node.tryFindChild(LightsailBucketAccessKeyProvider.DEFAULT_ID)).toBeUndefined();
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Lambda::Function', 2);
      template.hasResourceProperties('Custom::LightsailBucketAccessKey', { ServiceToken: stack.resolve(provider.serviceToken) });
    });

    test('two providers in one stack: each key uses the one it is given, and each provider may create keys of its own keys\' buckets only', () => {
      const stack = newStack();
      const first = new LightsailBucketAccessKeyProvider(stack, 'First');
      const second = new LightsailBucketAccessKeyProvider(stack, 'Second');
      const bucketOne = new lightsail.CfnBucket(stack, 'BucketOne', { bucketName: 'bucket-one', bundleId: 'small_1_0' });
      const bucketTwo = new lightsail.CfnBucket(stack, 'BucketTwo', { bucketName: 'bucket-two', bundleId: 'small_1_0' });
      const one = new LightsailBucketAccessKey(stack, 'One', { bucket: bucketOne, provider: first });
      const two = new LightsailBucketAccessKey(stack, 'Two', { bucket: bucketTwo, provider: second });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Lambda::Function', 4);
      const tokenOf = (key: LightsailBucketAccessKey): unknown => template.toJSON().Resources[customResourceId(key)].Properties.ServiceToken;
      expect(tokenOf(one)).toEqual(stack.resolve(first.serviceToken));
      expect(tokenOf(two)).toEqual(stack.resolve(second.serviceToken));
      const statementsOf = (provider: LightsailBucketAccessKeyProvider): Array<{ Action: unknown; Resource: unknown; Condition?: unknown }> => {
        const roleId = stack.getLogicalId(provider.onEventFunction.role!.node.defaultChild as CfnElement);
        const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
        return policy.Properties.PolicyDocument.Statement;
      };
      const creationOn = (provider: LightsailBucketAccessKeyProvider): unknown[] =>
        statementsOf(provider).filter((statement) => statement.Action === 'lightsail:CreateBucketAccessKey').map((statement) => statement.Resource);
      expect(creationOn(first)).toEqual([stack.resolve(bucketOne.attrBucketArn)]);
      expect(creationOn(second)).toEqual([stack.resolve(bucketTwo.attrBucketArn)]);
      // Secrets: each provider's handler may reach the secrets of its stack, by CloudFormation's tag.
      for (const provider of [first, second]) {
        const secretStatements = statementsOf(provider).filter((statement) => JSON.stringify(statement.Action).includes('secretsmanager:'));
        expect(secretStatements.map((statement) => statement.Condition))
          .toEqual([{ StringEquals: { 'aws:ResourceTag/aws:cloudformation:stack-id': { Ref: 'AWS::StackId' } } }]);
      }
    });

    test('a provider of another stack is a synth error that says why', () => {
      const app = new App();
      const providerStack = new Stack(app, 'ProviderStack', { env: ENV });
      const keyStack = new Stack(app, 'KeyStack', { env: ENV });
      const provider = new LightsailBucketAccessKeyProvider(providerStack, 'Provider');
      expect(() => new LightsailBucketAccessKey(keyStack, 'Key', { bucketName: 'made-elsewhere', provider }))
        .toThrow(/LightsailBucketAccessKey KeyStack\/Key: "provider" ProviderStack\/Provider belongs to stack ProviderStack, not to this key's stack KeyStack: each key grants the provider's roles access to its own bucket and secret, and its custom resource's service token would cross stacks/);
    });
  });

  describe('monitoring', () => {
    test('rotationFunction is undefined until a key rotates, then the rotation function', () => {
      const stack = newStack();
      const provider = LightsailBucketAccessKeyProvider.of(stack);
      new LightsailBucketAccessKey(stack, 'Plain', { bucketName: 'made-elsewhere' });
      expect(provider.rotationFunction).toBeUndefined();
      new LightsailBucketAccessKey(stack, 'Rotating', { bucketName: 'made-elsewhere', rotation: { automaticallyAfter: Duration.days(30) } });
      const rotationFunction = provider.rotationFunction!;
      const schedule = Template.fromStack(stack).findResources('AWS::SecretsManager::RotationSchedule');
      expect(Object.values(schedule)[0].Properties.RotationLambdaARN).toEqual(stack.resolve(rotationFunction.functionArn));
    });

    test('alarms on the errors of the onEvent handler and of the rotation function', () => {
      const stack = newStack();
      const provider = LightsailBucketAccessKeyProvider.of(stack);
      new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'made-elsewhere', rotation: { automaticallyAfter: Duration.days(30) } });
      for (const [id, fn] of [['HandlerErrors', provider.onEventFunction], ['RotationErrors', provider.rotationFunction!]] as const) {
        new cloudwatch.Alarm(stack, id, { metric: fn.metricErrors({ period: Duration.minutes(5) }), threshold: 1, evaluationPeriods: 1 });
      }
      const template = Template.fromStack(stack);
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms.map((alarm) => alarm.Properties.Dimensions)).toEqual([
        [{ Name: 'FunctionName', Value: stack.resolve(provider.onEventFunction.functionName) }],
        [{ Name: 'FunctionName', Value: stack.resolve(provider.rotationFunction!.functionName) }],
      ]);
      for (const alarm of alarms) {
        expect(alarm.Properties).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Period: 300 });
      }
    });
  });
});
