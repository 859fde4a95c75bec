import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';

/** What `npm pack` would publish (the bundle must have been built: `npm test` builds first). */
function packedFiles(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf-8',
  });
  const [pack] = JSON.parse(output) as Array<{ files: Array<{ path: string }> }>;
  return pack.files.map((file) => file.path).sort();
}

describe('npm package', () => {
  const files = packedFiles();

  test('ships the handler bundle, the compiled library and its declarations', () => {
    expect(files).toEqual(expect.arrayContaining([
      'lambda/dist/on-event/index.js',
      'lambda/dist/rotation/index.js',
      'lib/index.js',
      'lib/index.d.ts',
      'lib/access-key.js',
      'lib/access-key.d.ts',
      'lib/contract.js',
      'package.json',
      'README.md',
      'API.md',
      '.jsii',
    ]));
  });

  test('ships no TypeScript sources, tests, handler sources or example app', () => {
    const unexpected = files.filter((file) =>
      (file.endsWith('.ts') && !file.endsWith('.d.ts')) || /^(test|bin|bench|\.ci)\//.test(file) || /^lambda\/[^/]+\.(js|ts)$/.test(file));
    expect(unexpected).toEqual([]);
  });

  test('the bundle carries its SDK clients: it loads and answers outside this repository', () => {
    // A folder with no node_modules above it: any dependency left out of the bundle fails here.
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    fs.copyFileSync(path.join(__dirname, '..', 'lambda', 'dist', 'on-event', 'index.js'), path.join(folder, 'index.js'));
    const script = `require('./index.js').handler(${JSON.stringify({
      RequestType: 'Delete', PhysicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', ResourceProperties: {},
    })}, { getRemainingTimeInMillis: () => 300000 }).then((result) => process.stdout.write(JSON.stringify(result)))`;
    const output = execFileSync(process.execPath, ['-e', script], {
      cwd: folder,
      encoding: 'utf-8',
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(output.endsWith('{"PhysicalResourceId":"AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"}')).toBe(true);
  });
});

describe('the packed library in a fresh CDK app', () => {
  const ROOT = path.join(__dirname, '..');
  const lockedVersion = (name: string): string =>
    (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf-8')) as { version: string }).version;
  let appFolder: string;

  beforeAll(() => {
    appFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
    const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', appFolder], { cwd: ROOT, encoding: 'utf-8' }).trim().split('\n').pop()!;
    fs.writeFileSync(path.join(appFolder, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // Like a user's app: the package from its tarball, its peers from the registry (npm's cache after npm ci).
    execFileSync('npm', [
      'install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts',
      `./${tarball}`, `aws-cdk-lib@${lockedVersion('aws-cdk-lib')}`, `constructs@${lockedVersion('constructs')}`,
    ], { cwd: appFolder, stdio: 'ignore' });
    // TypeScript, so that the declarations the package ships are checked as a user's compiler would.
    fs.writeFileSync(path.join(appFolder, 'app.ts'), `
      import { Annotations, App, Duration, Stack } from 'aws-cdk-lib';
      import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
      import * as ec2 from 'aws-cdk-lib/aws-ec2';
      import * as targets from 'aws-cdk-lib/aws-events-targets';
      import * as iam from 'aws-cdk-lib/aws-iam';
      import * as kms from 'aws-cdk-lib/aws-kms';
      import * as lambda from 'aws-cdk-lib/aws-lambda';
      import * as lightsail from 'aws-cdk-lib/aws-lightsail';
      import * as logs from 'aws-cdk-lib/aws-logs';
      import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
      import * as sns from 'aws-cdk-lib/aws-sns';
      import { Construct } from 'constructs';
      import { ILightsailBucketAccessKey, LightsailBucketAccessKey, LightsailBucketAccessKeyProvider } from 'cdk-lightsail-bucket-access-key';

      const env = { account: '123456789012', region: 'us-east-1' };
      const app = new App({ outdir: 'cdk.out', context: { 'aws:cdk:enable-asset-metadata': true } });
      const stack = new Stack(app, 'Consumer');
      const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'consumer-bucket', bundleId: 'small_1_0' });
      new LightsailBucketAccessKey(stack, 'One', { bucket });
      new LightsailBucketAccessKey(stack, 'Two', { bucketName: 'bucket-made-elsewhere', serial: 1 });
      // The synth-time warning ids are public: this app knows the bucket made elsewhere is the only one.
      Annotations.of(stack).acknowledgeWarning(LightsailBucketAccessKey.BUCKET_NAME_SCOPE_WARNING, 'the account holds no other bucket');

      // A configured provider in a VPC, watched by alarms; a rotating key whose secret access key a container takes.
      const producer = new Stack(app, 'Producer', { env });
      const vpc = new ec2.Vpc(producer, 'Vpc', { maxAzs: 2 });
      const provider = new LightsailBucketAccessKeyProvider(producer, LightsailBucketAccessKeyProvider.DEFAULT_ID, {
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        logRetention: logs.RetentionDays.ONE_YEAR,
      });
      const rotatingKey = new LightsailBucketAccessKey(producer, 'Key', {
        bucketName: 'bucket-made-elsewhere',
        provider,
        rotation: { automaticallyAfter: Duration.days(30) },
      });
      rotatingKey.onRotationFailed('RotationFailed', { target: new targets.SnsTopic(new sns.Topic(producer, 'Alerts')) });
      const key: ILightsailBucketAccessKey = rotatingKey;
      const watched: Array<[string, lambda.IFunction | undefined]> = [['HandlerErrors', provider.onEventFunction], ['RotationErrors', provider.rotationFunction]];
      for (const [id, fn] of watched) {
        new cloudwatch.Alarm(producer, id, { metric: fn!.metricErrors(), threshold: 1, evaluationPeriods: 1 });
      }
      new lightsail.CfnContainer(producer, 'Service', {
        serviceName: 'app',
        power: 'nano',
        scale: 1,
        containerServiceDeployment: {
          containers: [{
            containerName: 'app',
            image: 'public.ecr.aws/docker/library/busybox:latest',
            environment: [{ variable: 'AWS_SECRET_ACCESS_KEY', value: key.secretAccessKey.unsafeUnwrap() }],
          }],
        },
      });

      // Another stack of the app takes the key through its interface.
      class Reader extends Stack {
        constructor(scope: Construct, id: string, readKey: ILightsailBucketAccessKey) {
          super(scope, id, { env });
          readKey.grantRead(new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
        }
      }
      new Reader(app, 'Reader', key);
      app.synth();

      // A second app imports the key from its secret, encrypted with a customer managed key.
      const secondApp = new App({ outdir: 'cdk.out.second' });
      const second = new Stack(secondApp, 'Imported', { env });
      const imported: ILightsailBucketAccessKey = LightsailBucketAccessKey.fromAccessKeyAttributes(second, 'Key', {
        bucketName: 'bucket-made-elsewhere',
        secret: secretsmanager.Secret.fromSecretAttributes(second, 'Secret', {
          secretCompleteArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:key-AbCdEf',
          encryptionKey: kms.Key.fromKeyArn(second, 'EncryptionKey', 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555'),
        }),
      });
      imported.grantRead(new iam.Role(second, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
      secondApp.synth();
    `);
    fs.writeFileSync(path.join(appFolder, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, target: 'es2022', module: 'commonjs', skipLibCheck: true, types: [], noEmitOnError: true },
      files: ['app.ts'],
    }));
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', appFolder], { cwd: appFolder, stdio: 'pipe' });
    execFileSync(process.execPath, ['app.js'], { cwd: appFolder, stdio: 'ignore' });
  }, 180_000);

  test('synthesizes two keys with one provider', () => {
    const template = JSON.parse(fs.readFileSync(path.join(appFolder, 'cdk.out', 'Consumer.template.json'), 'utf-8')) as
      { Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties?: Record<string, unknown> }> };
    const types = Object.values(template.Resources).map((resource) => resource.Type);
    expect(types.filter((type) => type === 'Custom::LightsailBucketAccessKey')).toHaveLength(2);
    expect(types.filter((type) => type === 'AWS::SecretsManager::Secret')).toHaveLength(2);
    expect(types.filter((type) => type === 'AWS::Lambda::Function')).toHaveLength(2);
  });

  test('the handler asset is the bundle that was built, byte for byte', () => {
    const template = JSON.parse(fs.readFileSync(path.join(appFolder, 'cdk.out', 'Consumer.template.json'), 'utf-8')) as
      { Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties?: Record<string, unknown> }> };
    const handler = Object.values(template.Resources).find((resource) => resource.Properties?.Handler === 'index.handler')!;
    const asset = path.join(appFolder, 'cdk.out', handler.Metadata!['aws:asset:path'], 'index.js');
    expect(fs.readFileSync(asset)).toEqual(fs.readFileSync(path.join(ROOT, 'lambda', 'dist', 'on-event', 'index.js')));
    // It came from the installed package, not from this repository.
    expect(fs.realpathSync(require.resolve('cdk-lightsail-bucket-access-key', { paths: [appFolder] }))).toContain(appFolder);
  });

  describe('the new API, from the installed package', () => {
    const templateOf = (folder: string, stack: string): Template =>
      Template.fromJSON(JSON.parse(fs.readFileSync(path.join(appFolder, folder, `${stack}.template.json`), 'utf-8')));
    const ofType = (template: Template, type: string) => Object.values(template.findResources(type));

    test('the configured provider: three functions in the VPC, a year of logs, alarms on onEventFunction and rotationFunction', () => {
      const template = templateOf('cdk.out', 'Producer');
      const functions = ofType(template, 'AWS::Lambda::Function');
      expect(functions).toHaveLength(3);
      for (const fn of functions) {
        expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(2);
      }
      expect(ofType(template, 'AWS::Logs::LogGroup').map((group) => group.Properties.RetentionInDays)).toEqual([365]);
      const alarms = ofType(template, 'AWS::CloudWatch::Alarm');
      expect(alarms.map((alarm) => alarm.Properties.MetricName)).toEqual(['Errors', 'Errors']);
      expect(new Set(alarms.map((alarm) => JSON.stringify(alarm.Properties.Dimensions))).size).toBe(2);
    });

    test('onRotationFailed: a rule on this key\'s failed rotations, sent to the topic', () => {
      const template = templateOf('cdk.out', 'Producer');
      const [rule] = ofType(template, 'AWS::Events::Rule');
      expect(rule.Properties.EventPattern).toEqual({
        'source': ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        'detail': {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed', 'RotationAbandoned'],
          additionalEventData: { SecretId: [{ Ref: expect.stringMatching(/^KeySecret[0-9A-F]+$/) }] },
        },
      });
      expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { Ref: expect.stringMatching(/^Alerts[0-9A-F]+$/) } })]);
    });

    test('the acknowledged warning is gone; the one nobody acknowledged is still there', () => {
      // The stack's annotations, as the CLI reads them (aws-cdk-lib writes them beside the manifest).
      const annotations = (stack: string) => fs.readFileSync(path.join(appFolder, 'cdk.out', `${stack}.metadata.json`), 'utf-8');
      expect(annotations('Consumer')).not.toContain('[ack: cdk-lightsail-bucket-access-key:bucketNameScope]');
      expect(annotations('Producer')).toContain('[ack: cdk-lightsail-bucket-access-key:bucketNameScope]');
    });

    test('secretAccessKey reaches the container as a dynamic reference, after the key is in the secret', () => {
      const [container] = ofType(templateOf('cdk.out', 'Producer'), 'AWS::Lightsail::Container');
      const value = JSON.stringify(container.Properties.ContainerServiceDeployment.Containers[0].Environment[0].Value);
      // The secret's Ref, picked from a list that also names the key's custom resource (for the order).
      expect(value).toMatch(new RegExp('^\\{"Fn::Join":\\["",\\["\\{\\{resolve:secretsmanager:",' +
        '\\{"Fn::Select":\\[0,\\[\\{"Ref":"KeySecret[0-9A-F]+"\\},\\{"Fn::GetAtt":\\["Key[0-9A-F]+","AccessKeyId"\\]\\}\\]\\]\\},' +
        '":SecretString:secretAccessKey::\\}\\}"\\]\\]\\}$'));
    });

    test('the key in another stack: grantRead on the imported secret ARN', () => {
      const [policy] = ofType(templateOf('cdk.out', 'Reader'), 'AWS::IAM::Policy');
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { 'Fn::ImportValue': expect.stringContaining('KeySecret') },
      }));
    });

    test('the key imported in a second app: grantRead includes kms:Decrypt through Secrets Manager', () => {
      const [policy] = ofType(templateOf('cdk.out.second', 'Imported'), 'AWS::IAM::Policy');
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
      });
    });
  });
});
