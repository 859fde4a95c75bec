import { Annotations, CfnOutput, CustomResource, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { LightsailBucketAccessKey } from '../../../lib';

export interface MinistackVariantProps extends StackProps {
  /** A bucket local/'s emulator made: ministack has no AWS::Lightsail::Bucket. */
  readonly bucketName: string;
  readonly serial?: number;
  /** Adds a custom resource, ordered after the key (it reads the key's id), whose Create fails. */
  readonly failAfterKey?: boolean;
}

/**
 * bin/example-stack.ts as ministack can deploy it. The same construct ids (so the same logical ids,
 * checked by the test against the example's template), less what ministack lacks:
 * - no AWS::Lightsail::Bucket: the key gets the bucket by `bucketName`, and the test makes the bucket
 *   in local/'s emulator;
 * - no AWS::SecretsManager::RotationSchedule: no `rotation`, so neither the rotation function nor the
 *   rotation alert (its rule, SNS topic and KMS key), which needs rotation. Rotation stays covered by
 *   local/'s rotation driver.
 */
export class MinistackVariantStack extends Stack {
  constructor(scope: Construct, id: string, props: MinistackVariantProps) {
    super(scope, id, props);

    const key = new LightsailBucketAccessKey(this, 'AppKey', { bucketName: props.bucketName, serial: props.serial });
    Annotations.of(key).acknowledgeWarning(LightsailBucketAccessKey.BUCKET_NAME_SCOPE_WARNING,
      'ministack has no AWS::Lightsail::Bucket: the bucket is made outside the stack');

    const appRole = new iam.Role(this, 'AppRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Application that reads the bucket access key from Secrets Manager',
    });
    key.grantRead(appRole);

    if (props.failAfterKey) {
      failAfter(this, key);
    }

    new CfnOutput(this, 'AccessKeyId', { value: key.accessKeyId });
    new CfnOutput(this, 'SecretArn', { value: key.secret.secretArn });
  }
}

/**
 * An update that fails after the key's custom resource succeeded: a custom resource that reads the
 * key's id (so CloudFormation creates it after the key) and answers FAILED to its Create, SUCCESS to
 * the Delete the rollback sends it.
 */
function failAfter(scope: Construct, key: LightsailBucketAccessKey): void {
  const fn = new lambda.Function(scope, 'FailAfterKeyFunction', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    timeout: Duration.seconds(30),
    code: lambda.Code.fromInline(FAIL_AFTER_KEY_HANDLER),
  });
  new CustomResource(scope, 'FailAfterKey', {
    serviceToken: fn.functionArn,
    resourceType: 'Custom::FailAfterKey',
    properties: { AccessKeyId: key.accessKeyId },
    serviceTimeout: Duration.minutes(2),
  });
}

/** The reason the failing resource gives, which the test finds in the stack events. */
export const FAIL_AFTER_KEY_REASON = 'planned failure after the access key';

const FAIL_AFTER_KEY_HANDLER = `
const https = require('https');
exports.handler = async (event) => {
  console.log(JSON.stringify({ failAfterKeyRequest: event.RequestType }));
  const body = JSON.stringify({
    Status: event.RequestType === 'Create' ? 'FAILED' : 'SUCCESS',
    Reason: '${FAIL_AFTER_KEY_REASON}',
    PhysicalResourceId: event.PhysicalResourceId || 'fail-after-key',
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  const url = new URL(event.ResponseURL);
  await new Promise((resolve, reject) => {
    const request = https.request({
      hostname: url.hostname, port: url.port || undefined, path: url.pathname + url.search, method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    }, (response) => { response.resume(); response.on('end', resolve); });
    request.on('error', reject);
    request.end(body);
  });
};
`;
