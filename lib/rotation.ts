import { Duration } from 'aws-cdk-lib';

/**
 * Scheduled rotation of a LightsailBucketAccessKey by Secrets Manager.
 *
 * Each rotation creates a new key, proves it works against the bucket, and makes it the secret's
 * current version. The key it replaces stays valid as the previous version until the next rotation
 * deletes it to make room (Lightsail allows two keys per bucket): applications must re-read the
 * secret within one rotation period.
 */
export interface KeyRotationOptions {
  /**
   * How often Secrets Manager rotates the key: 4 to 23 whole hours, or 1 to 1000 whole days.
   */
  readonly automaticallyAfter: Duration;

  /**
   * Whether Secrets Manager rotates right after the schedule is created or changed.
   *
   * @default false - the deployment has just created the key
   */
  readonly rotateImmediatelyOnUpdate?: boolean;
}
