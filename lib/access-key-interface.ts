import { IResource, SecretValue } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * An access key of an Amazon Lightsail bucket whose credentials are kept in a Secrets Manager secret:
 * a `LightsailBucketAccessKey` of this app, or one imported with
 * `LightsailBucketAccessKey.fromAccessKeyAttributes`.
 */
export interface ILightsailBucketAccessKey extends IResource {
  /**
   * The access key id. Not a secret: safe to output.
   *
   * @attribute
   */
  readonly accessKeyId: string;

  /** The name of the bucket the key belongs to. */
  readonly bucketName: string;

  /**
   * The secret holding the key's credentials as the JSON document
   * `{"accessKeyId", "secretAccessKey", "bucketName", "region", "bucketUrl"}`.
   */
  readonly secret: secretsmanager.ISecret;

  /**
   * The secret access key, as a Secrets Manager dynamic reference to the secret's `secretAccessKey`
   * field (`{{resolve:secretsmanager:...:SecretString:secretAccessKey::}}`), never the value.
   *
   * CloudFormation resolves it when it creates or updates the resource property that holds it (only
   * in resource properties: not in Outputs, nor in custom resources), so it never appears in the
   * template. The resource keeps
   * that value: after a rotation it holds a stale key until a stack update changes that resource,
   * and a scheduled rotation deletes the previous key at the next rotation. With `rotation`, prefer
   * giving the application the secret to read at run time (for ECS, `ecs.Secret.fromSecretsManager`).
   *
   * @attribute
   */
  readonly secretAccessKey: SecretValue;

  /**
   * Grants reading the key's secret, and decrypting it through Secrets Manager when a customer
   * managed KMS key encrypts it.
   *
   * @param grantee the principal that may read the secret
   */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/**
 * How to find an access key made by another app (or by hand): its secret, in the JSON format of
 * `LightsailBucketAccessKey`'s secret, and its bucket.
 */
export interface LightsailBucketAccessKeyAttributes {
  /**
   * The secret holding the key's credentials. Import it with its encryption key
   * (`secretsmanager.Secret.fromSecretAttributes(scope, id, { secretCompleteArn, encryptionKey })`)
   * when a customer managed KMS key encrypts it, so that `grantRead` also grants `kms:Decrypt`.
   */
  readonly secret: secretsmanager.ISecret;

  /** The name of the bucket the key belongs to. */
  readonly bucketName: string;

  /**
   * The access key id.
   *
   * @default - a Secrets Manager dynamic reference to the secret's `accessKeyId` field, which
   * CloudFormation resolves when it creates or updates the resource property that holds it (only in
   * resource properties: not in Outputs, nor in custom resources); after a rotation it is stale until
   * that resource is updated
   */
  readonly accessKeyId?: string;
}
