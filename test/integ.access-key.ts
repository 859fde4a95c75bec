/**
 * Integration test. `npx integ-runner` (part of `npm test` through test/integ.test.ts) compares this
 * app with the committed snapshot without deploying. With an AWS account, `npx integ-runner
 * --update-on-failed` deploys it, runs the assertions below and destroys it (README: Integration test).
 *
 * Rotation for real: raise SERIAL and run with `--update-on-failed`; the update workflow deploys the
 * committed snapshot (the old serial) first, then this app, so the key is replaced as in production.
 */
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { Annotations, App, Aws, Stack } from 'aws-cdk-lib';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey } from '../lib';

const SERIAL = 1;

const app = new App();
const stack = new Stack(app, 'LightsailBucketAccessKeyInteg');

// Lightsail bucket names are global: the account id keeps them apart.
const bucket = new lightsail.CfnBucket(stack, 'Bucket', {
  bucketName: `integ-lsak-${Aws.ACCOUNT_ID}`,
  bundleId: 'small_1_0',
});
const key = new LightsailBucketAccessKey(stack, 'Key', { bucket, serial: SERIAL });

const otherBucket = new lightsail.CfnBucket(stack, 'OtherBucket', {
  bucketName: `integ-lsak-other-${Aws.ACCOUNT_ID}`,
  bundleId: 'small_1_0',
});
const keyByName = new LightsailBucketAccessKey(stack, 'KeyByName', { bucketName: otherBucket.bucketName });
// Known only by name, the bucket gives no implicit dependency.
keyByName.node.addDependency(otherBucket);
Annotations.of(keyByName).acknowledgeWarning(LightsailBucketAccessKey.BUCKET_NAME_SCOPE_WARNING,
  'The test covers the bucketName form on purpose, in an account made for it');

const integ = new IntegTest(app, 'AccessKeyTest', { testCases: [stack] });

for (const [bucketName, accessKey] of [[bucket.bucketName, key], [otherBucket.bucketName, keyByName]] as const) {
  // The bucket lists the key id.
  integ.assertions
    .awsApiCall('Lightsail', 'getBucketAccessKeys', { bucketName })
    .expect(ExpectedResult.objectLike({ accessKeys: Match.arrayWith([Match.objectLike({ accessKeyId: accessKey.accessKeyId })]) }));

  // The secret has exactly one current version. Its value is never read here: assertion results are logged.
  integ.assertions
    .awsApiCall('SecretsManager', 'listSecretVersionIds', { SecretId: accessKey.secret.secretArn })
    .expect(ExpectedResult.objectLike({ Versions: [Match.objectLike({ VersionStages: ['AWSCURRENT'] })] }));
}

/** For test/integ-snapshot.test.ts, which compares this app with the committed snapshot. */
export { app };
