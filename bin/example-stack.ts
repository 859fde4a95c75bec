import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LightsailBucketAccessKey } from '../lib';

export interface ExampleStackProps extends StackProps {
  /** Lightsail bucket names are global: pick your own. */
  readonly bucketName: string;
  /** Bump to rotate the key. */
  readonly serial?: number;
}

/**
 * A Lightsail bucket, an access key for it rotated every 30 days, an application role allowed to read it,
 * and an SNS topic told when a scheduled rotation fails.
 */
export class ExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id, props);

    const bucket = new lightsail.CfnBucket(this, 'Bucket', {
      bucketName: props.bucketName,
      bundleId: 'small_1_0',
    });

    const key = new LightsailBucketAccessKey(this, 'AppKey', {
      bucket,
      serial: props.serial,
      rotation: { automaticallyAfter: Duration.days(30) },
    });

    const appRole = new iam.Role(this, 'AppRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Application that reads the bucket access key from Secrets Manager',
    });
    key.grantRead(appRole);

    // Subscribe the operators (email, chat) to this topic. Encrypted, and published to over TLS only.
    const rotationAlerts = new sns.Topic(this, 'RotationAlerts', {
      displayName: 'Failed rotations of the Lightsail bucket access key',
      masterKey: new kms.Key(this, 'RotationAlertsKey', {
        description: 'Encrypts the rotation alerts topic',
        enableKeyRotation: true,
      }),
      enforceSSL: true,
    });
    key.onRotationFailed('RotationFailed', { target: new targets.SnsTopic(rotationAlerts) });

    new CfnOutput(this, 'AccessKeyId', { value: key.accessKeyId });
    new CfnOutput(this, 'SecretArn', { value: key.secret.secretArn });
    new CfnOutput(this, 'BucketUrl', { value: bucket.attrUrl });
    new CfnOutput(this, 'RotationAlertsTopicArn', { value: rotationAlerts.topicArn });
  }
}
