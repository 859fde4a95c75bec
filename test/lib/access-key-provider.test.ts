import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { LightsailBucketAccessKeyProvider } from '../../lib';
import { HANDLER_ASSET_DIR } from '../../lib/access-key-provider';
import { actionsOf, ENV, handlerFunctionId, handlerPolicy, handlerRoleId, identityPolicyStatements, newStack } from './stack-fixture';

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
        { Effect: 'Allow', Action: ['lightsail:GetBuckets', 'lightsail:GetBucketAccessKeys'], Resource: '*' },
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
});
