import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey, LightsailBucketAccessKeyProps } from '../../lib';
import { ENV, actionsOf, customResourceId, secretId } from './stack-fixture';

function stackWith(...keys: Array<Partial<LightsailBucketAccessKeyProps>>): { stack: Stack; template: Template; created: LightsailBucketAccessKey[] } {
  const stack = new Stack(new App(), 'S', { env: ENV });
  const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'my-bucket', bundleId: 'small_1_0' });
  const created = keys.map((props, index) => new LightsailBucketAccessKey(stack, `Key${index}`, { bucket, ...props }));
  return { stack, template: Template.fromStack(stack), created };
}

function rotationFunctionId(template: Template): string {
  const [id] = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Rotates') } }));
  return id;
}

describe('rotation', () => {
  test('without it there is no schedule and no rotation function', () => {
    const { template } = stackWith({});
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    template.resourceCountIs('AWS::Lambda::Function', 2);
  });

  describe('with a schedule of 30 days on two keys', () => {
    const { stack, template, created } = stackWith(
      { rotation: { automaticallyAfter: Duration.days(30) } },
      { rotation: { automaticallyAfter: Duration.hours(6), rotateImmediatelyOnUpdate: true } },
    );

    test('one rotation function per stack, on the bundled rotation handler', () => {
      template.resourceCountIs('AWS::Lambda::Function', 3);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^Rotates'), Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 120,
      });
    });

    test('each secret gets its schedule: whole days, or a rate in hours; no immediate rotation by default', () => {
      template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        SecretId: { Ref: secretId(created[0]) },
        RotationLambdaARN: { 'Fn::GetAtt': [rotationFunctionId(template), 'Arn'] },
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediatelyOnUpdate: false,
      });
      template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        SecretId: { Ref: secretId(created[1]) },
        RotationRules: { ScheduleExpression: 'rate(6 hours)' },
        RotateImmediatelyOnUpdate: true,
      });
    });

    test('a schedule waits for the first key, the function and its permissions', () => {
      const schedules = template.findResources('AWS::SecretsManager::RotationSchedule');
      const [permission] = Object.keys(template.findResources('AWS::Lambda::Permission'));
      for (const schedule of Object.values(schedules)) {
        expect(schedule.DependsOn).toEqual(expect.arrayContaining([rotationFunctionId(template), permission]));
      }
      expect(Object.values(schedules).map((schedule) => schedule.DependsOn)).toEqual([
        expect.arrayContaining([customResourceId(created[0])]),
        expect.arrayContaining([customResourceId(created[1])]),
      ]);
    });

    test('only Secrets Manager of this account may invoke the function', () => {
      template.resourceCountIs('AWS::Lambda::Permission', 1);
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction', Principal: 'secretsmanager.amazonaws.com', SourceAccount: '123456789012',
        FunctionName: { 'Fn::GetAtt': [rotationFunctionId(template), 'Arn'] },
      });
    });

    test('the rotation role manages keys of the bucket and these secrets only, with no wildcard action', () => {
      const roleId = template.findResources('AWS::Lambda::Function')[rotationFunctionId(template)].Properties.Role['Fn::GetAtt'][0];
      const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
      const statements = policy.Properties.PolicyDocument.Statement;
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['lightsail:CreateBucketAccessKey', 'lightsail:DeleteBucketAccessKey'],
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(stack.node.findChild('Bucket') as lightsail.CfnBucket), 'BucketArn'] },
      });
      // Both keys' secrets and no other, in one statement: rotation never cleans up after a template change.
      expect(statements.filter((statement: { Action: string[] }) => JSON.stringify(statement.Action).includes('secretsmanager:'))).toEqual([{
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Resource: created.map((key) => ({ Ref: secretId(key) })),
      }]);
      // Deleting keys stays on the keys' bucket: rotation never cleans up after a template change.
      expect(JSON.stringify(statements)).not.toContain(':Bucket/*');
      expect(statements.flatMap(actionsOf).filter((action: string) => action.includes('*'))).toEqual([]);
      expect(JSON.stringify(statements)).not.toMatch(/GetRandomPassword|DeleteSecret/);
    });
  });

  test('with a customer managed key, the rotation role may use it through Secrets Manager', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const encryptionKey = new kms.Key(stack, 'Cmk');
    new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'my-bucket', encryptionKey, rotation: { automaticallyAfter: Duration.days(7) } });
    const template = Template.fromStack(stack);
    const roleId = template.findResources('AWS::Lambda::Function')[rotationFunctionId(template)].Properties.Role['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: { Statement: Match.arrayWith([{
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(encryptionKey.node.defaultChild as kms.CfnKey), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
      }]) },
    });
  });

  test.each([Duration.hours(4), Duration.hours(23), Duration.days(1), Duration.days(1000), Duration.hours(48)])(
    '"rotation.automaticallyAfter" %s is accepted', (automaticallyAfter) => {
      expect(() => stackWith({ rotation: { automaticallyAfter } })).not.toThrow();
    });

  test.each([
    [Duration.hours(3), /"rotation.automaticallyAfter" must be 4 to 23 whole hours, or whole days \(got 3 hours\)/],
    [Duration.minutes(90), /"rotation.automaticallyAfter" must be 4 to 23 whole hours/],
    [Duration.hours(36), /"rotation.automaticallyAfter" must be 1 to 1000 whole days, or 4 to 23 hours/],
    [Duration.days(1001), /"rotation.automaticallyAfter" must be 1 to 1000 whole days/],
  ])('"rotation.automaticallyAfter" %s is rejected', (automaticallyAfter, message) => {
    expect(() => stackWith({ rotation: { automaticallyAfter } })).toThrow(message);
  });
});
