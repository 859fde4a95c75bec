/**
 * The TypeScript twin of test/bindings/python/app.py, java/src/main/java/twin/App.java and go/main.go:
 * every public API of the package, as a user would write it. Its templates are what the twins' must
 * equal. Usage: `node app.js <outdir>`: prints one JSON line per error case, then synthesizes into <outdir>.
 */
import { Annotations, App, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ILightsailBucketAccessKey, LightsailBucketAccessKey, LightsailBucketAccessKeyProvider } from 'cdk-lightsail-bucket-access-key';

const env = { account: '123456789012', region: 'us-east-1' };

/** Takes any key, made here or imported: reads it and outputs its id and bucket. */
function useKey(scope: Construct, id: string, key: ILightsailBucketAccessKey): iam.Role {
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  key.grantRead(role);
  new CfnOutput(scope, `${id}Bucket`, { value: key.bucketName });
  new CfnOutput(scope, `${id}SecretArn`, { value: key.secret.secretArn });
  return role;
}

function synth(outdir: string): void {
  const app = new App({ outdir });

  const stack = new Stack(app, 'Keys', { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', { availabilityZones: ['us-east-1a', 'us-east-1b'], natGateways: 1 });
  const group = new ec2.SecurityGroup(stack, 'HandlerGroup', { vpc, allowAllOutbound: true });
  const logGroup = new logs.LogGroup(stack, 'ProviderLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: RemovalPolicy.DESTROY });
  new LightsailBucketAccessKeyProvider(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID, {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [group],
    logGroup,
  });

  const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'twin-bucket', bundleId: 'small_1_0' });
  const rotating = new LightsailBucketAccessKey(stack, 'Rotating', {
    bucket,
    rotation: { automaticallyAfter: Duration.days(30), rotateImmediatelyOnUpdate: false },
  });
  const topic = new sns.Topic(stack, 'RotationAlerts');
  rotating.onRotationFailed('RotationFailed', { target: new targets.SnsTopic(topic), description: 'A rotation of the twin key failed' });

  const encryptionKey = new kms.Key(stack, 'SecretsKey', { enableKeyRotation: true });
  const byName = new LightsailBucketAccessKey(stack, 'ByName', {
    bucketName: 'bucket-made-elsewhere',
    serial: 2,
    encryptionKey,
    secretName: 'twin/by-name',
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Annotations.of(byName).acknowledgeWarning(LightsailBucketAccessKey.BUCKET_NAME_SCOPE_WARNING, 'the account holds no other bucket');

  // A second key on the rotating key's bucket: the rotation needs a free slot, and this app knows it.
  const second = new LightsailBucketAccessKey(stack, 'Second', { bucket });
  second.applyRemovalPolicy(RemovalPolicy.DESTROY);
  Annotations.of(stack).acknowledgeWarning(LightsailBucketAccessKey.NO_FREE_SLOT_WARNING, 'the second key goes before the next rotation');

  // A provider under its own id, with the deprecated log setting, serving one key.
  const legacy = new LightsailBucketAccessKeyProvider(stack, 'LegacyProvider', { logRetention: logs.RetentionDays.ONE_WEEK });
  new LightsailBucketAccessKey(stack, 'Legacy', { bucketName: 'legacy-bucket', provider: legacy });

  const provider = LightsailBucketAccessKeyProvider.of(rotating);
  new cloudwatch.Alarm(stack, 'HandlerErrors', { metric: provider.onEventFunction.metricErrors(), threshold: 1, evaluationPeriods: 1 });
  new cloudwatch.Alarm(stack, 'RotationErrors', { metric: provider.rotationFunction!.metricErrors(), threshold: 1, evaluationPeriods: 1 });

  new lightsail.CfnContainer(stack, 'Service', {
    serviceName: 'twin-app',
    power: 'nano',
    scale: 1,
    containerServiceDeployment: {
      containers: [{
        containerName: 'app',
        image: 'public.ecr.aws/docker/library/busybox:latest',
        environment: [
          { variable: 'AWS_ACCESS_KEY_ID', value: second.accessKeyId },
          { variable: 'AWS_SECRET_ACCESS_KEY', value: second.secretAccessKey.unsafeUnwrap() },
        ],
      }],
    },
  });
  useKey(stack, 'Reader', byName);

  // Another stack of the app takes the rotating key through its interface.
  const consumer = new Stack(app, 'Consumer', { env });
  useKey(consumer, 'Reader', rotating);

  // A key of another app, imported from its secret (encrypted with a customer managed key).
  const imported = new Stack(app, 'Imported', { env });
  const importedKey = LightsailBucketAccessKey.fromAccessKeyAttributes(imported, 'Key', {
    bucketName: 'bucket-made-elsewhere',
    secret: secretsmanager.Secret.fromSecretAttributes(imported, 'Secret', {
      secretCompleteArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:twin-key-AbCdEf',
      encryptionKey: kms.Key.fromKeyArn(imported, 'EncryptionKey', 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555'),
    }),
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  });
  useKey(imported, 'Reader', importedKey);
  new CfnOutput(imported, 'KeyId', { value: importedKey.accessKeyId });

  app.synth();
}

/** The message of what `run` throws, or a note that it threw nothing. */
function errorOf(name: string, run: () => void): string {
  try {
    run();
  } catch (error) {
    const { constructor, name: errorName, message } = error as Error;
    return JSON.stringify({ case: name, type: constructor.name, name: errorName, message });
  }
  return JSON.stringify({ case: name, type: 'none', message: 'nothing thrown' });
}

function errors(): void {
  console.log(errorOf('invalidProp', () => {
    const stack = new Stack(new App(), 'Errors', { env });
    new LightsailBucketAccessKey(stack, 'Key', { bucketName: 'Not_A_Bucket' });
  }));
  console.log(errorOf('threeKeysOnOneBucket', () => {
    const app = new App();
    const stack = new Stack(app, 'Errors', { env });
    const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'full-bucket', bundleId: 'small_1_0' });
    for (const id of ['One', 'Two', 'Three']) {
      new LightsailBucketAccessKey(stack, id, { bucket });
    }
    app.synth();
  }));
}

errors();
synth(process.argv[2]);
