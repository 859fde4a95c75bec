/**
 * The contract between the construct (`lib/`) and the custom-resource handler (`lambda/`).
 *
 * Both sides import this module and nothing else from each other. It must not import aws-cdk-lib:
 * it is bundled into the handler.
 */

/** CloudFormation type of the custom resource. */
export const RESOURCE_TYPE = 'Custom::LightsailBucketAccessKey';

/**
 * Properties of the custom resource, as the handler receives them.
 *
 * CloudFormation passes every scalar property as a string, so `Serial` arrives as e.g. `"3"`.
 */
export interface AccessKeyResourceProperties {
  /** Name of the Lightsail bucket the key belongs to. */
  readonly BucketName: string;
  /** ARN of the (initially empty) Secrets Manager secret that receives the key. */
  readonly SecretArn: string;
  /** Bumped by the user to rotate the key. Absent when the user never set it. */
  readonly Serial?: string;
}

/** Properties whose change makes the handler create a new key (a replacement). */
export const REPLACING_PROPERTIES: ReadonlyArray<keyof AccessKeyResourceProperties> = ['BucketName', 'SecretArn', 'Serial'];

/** Lightsail allows this many access keys per bucket (checked at synth time and by the handlers). */
export const MAX_ACCESS_KEYS_PER_BUCKET = 2;

/** Attribute names in the custom resource's `Data` (readable with `Fn::GetAtt`). Never the secret. */
export const ATTRIBUTE_ACCESS_KEY_ID = 'AccessKeyId';

/** JSON shape of the secret's value (`SecretString`). */
export interface StoredAccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucketName: string;
  readonly region: string;
  /** The bucket's endpoint URL, as Lightsail reports it (e.g. `https://my-bucket.s3.us-east-1.amazonaws.com/`). */
  readonly bucketUrl?: string;
  /**
   * The resource's `Serial` when the key was made; rotation keeps it. With the bucket name it tells
   * which generation of the resource a key belongs to, so that a Delete removes that generation's
   * keys (also those rotation made) and no other.
   */
  readonly serial?: string;
}

/** Secrets Manager's staging labels. */
export type VersionStage = 'AWSCURRENT' | 'AWSPREVIOUS' | 'AWSPENDING';

/**
 * Shape of a Lightsail access key id. Anything else (the Provider framework's CREATE_FAILED
 * marker, an id CloudFormation generated) never came from this resource.
 */
export const ACCESS_KEY_ID_PATTERN = /^[A-Z0-9]{16,128}$/;
