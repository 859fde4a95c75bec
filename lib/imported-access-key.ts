import { Resource, SecretValue } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ILightsailBucketAccessKey, LightsailBucketAccessKeyAttributes } from './access-key-interface';
import { grantReadKeySecret } from './key-grants';

/** A key made elsewhere, known by its secret and bucket. */
export class ImportedAccessKey extends Resource implements ILightsailBucketAccessKey {
  public readonly accessKeyId: string;
  public readonly bucketName: string;
  public readonly secret: secretsmanager.ISecret;
  public readonly secretAccessKey: SecretValue;

  constructor(scope: Construct, id: string, attrs: LightsailBucketAccessKeyAttributes) {
    // The key lives where its secret does.
    super(scope, id, { account: attrs.secret.env.account, region: attrs.secret.env.region });
    this.secret = attrs.secret;
    this.bucketName = attrs.bucketName;
    this.secretAccessKey = attrs.secret.secretValueFromJson('secretAccessKey');
    // The access key id is not secret (it is an output of the construct), so unwrapping the dynamic
    // reference to it is safe: it is still resolved by CloudFormation, and never known at synth time.
    this.accessKeyId = attrs.accessKeyId ?? attrs.secret.secretValueFromJson('accessKeyId').unsafeUnwrap();
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantReadKeySecret(this.secret, grantee);
  }
}
