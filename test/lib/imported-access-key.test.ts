/**
 * A key made by one app, imported in a second app from its secret and bucket.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { ILightsailBucketAccessKey, LightsailBucketAccessKey } from '../../lib';
import { ENV, Statement } from './stack-fixture';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:app/lightsail-key-AbCdEf';
const KEY_ARN = 'arn:aws:kms:eu-west-1:210987654321:key/11111111-2222-3333-4444-555555555555';

/** The second app: one stack that imports the key and grants a role reading it. */
function importInSecondApp(secret: (stack: Stack) => secretsmanager.ISecret, accessKeyId?: string): { stack: Stack; key: ILightsailBucketAccessKey; statements: Statement[] } {
  const stack = new Stack(new App(), 'SecondApp', { env: ENV });
  const key = LightsailBucketAccessKey.fromAccessKeyAttributes(stack, 'Key', { secret: secret(stack), bucketName: 'made-elsewhere', accessKeyId });
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
  expect(key.grantRead(reader).success).toBe(true);
  // A dynamic reference resolves in resource properties only (not in Outputs).
  new ssm.StringParameter(stack, 'AccessKeyId', { stringValue: key.accessKeyId });
  const template = Template.fromStack(stack);
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
  return { stack, key, statements };
}

describe('LightsailBucketAccessKey.fromAccessKeyAttributes', () => {
  describe('without a customer managed key', () => {
    let stack: Stack;
    let key: ILightsailBucketAccessKey;
    let statements: Statement[];

    beforeAll(() => {
      ({ stack, key, statements } = importInSecondApp((scope) => secretsmanager.Secret.fromSecretCompleteArn(scope, 'Secret', SECRET_ARN)));
    });

    test('grantRead gives the secret\'s value, and no KMS permission', () => {
      expect(statements).toEqual([
        { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: SECRET_ARN },
      ]);
    });

    test('the attributes are those given; the key lives in its secret\'s account and region', () => {
      expect(key.bucketName).toBe('made-elsewhere');
      expect(key.secret.secretArn).toBe(SECRET_ARN);
      expect(key.env).toEqual({ account: '210987654321', region: 'eu-west-1' });
    });

    test('accessKeyId defaults to a dynamic reference to the secret\'s accessKeyId field', () => {
      expect(stack.resolve(key.accessKeyId)).toBe(`{{resolve:secretsmanager:${SECRET_ARN}:SecretString:accessKeyId::}}`);
    });

    test('secretAccessKey is a dynamic reference to the secret\'s secretAccessKey field', () => {
      expect(stack.resolve(key.secretAccessKey)).toBe(`{{resolve:secretsmanager:${SECRET_ARN}:SecretString:secretAccessKey::}}`);
    });
  });

  describe('with a customer managed key', () => {
    let statements: Statement[];

    beforeAll(() => {
      ({ statements } = importInSecondApp((scope) => secretsmanager.Secret.fromSecretAttributes(scope, 'Secret', {
        secretCompleteArn: SECRET_ARN,
        encryptionKey: kms.Key.fromKeyArn(scope, 'EncryptionKey', KEY_ARN),
      })));
    });

    test('grantRead also grants kms:Decrypt of that key, only through Secrets Manager of the secret\'s region', () => {
      expect(statements).toContainEqual(
        { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: SECRET_ARN });
      const kmsStatements = statements.filter((statement) => JSON.stringify(statement.Action).includes('kms:'));
      expect(kmsStatements.length).toBeGreaterThan(0);
      for (const statement of kmsStatements) {
        expect(statement).toEqual({
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: KEY_ARN,
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
        });
      }
    });
  });

  test('an accessKeyId given is used as is', () => {
    const { stack, key } = importInSecondApp((scope) => secretsmanager.Secret.fromSecretCompleteArn(scope, 'Secret', SECRET_ARN), 'AKIAEXAMPLE');
    expect(stack.resolve(key.accessKeyId)).toBe('AKIAEXAMPLE');
  });

  test('a key of this app\'s stack can be handed on as ILightsailBucketAccessKey by its secret', () => {
    const stack = new Stack(new App(), 'S', { env: ENV });
    const original = new LightsailBucketAccessKey(stack, 'Original', { bucketName: 'made-elsewhere' });
    const imported = LightsailBucketAccessKey.fromAccessKeyAttributes(stack, 'Imported', { secret: original.secret, bucketName: original.bucketName });
    expect(stack.resolve(imported.secretAccessKey)).toEqual(stack.resolve(original.secretAccessKey));
  });
});
