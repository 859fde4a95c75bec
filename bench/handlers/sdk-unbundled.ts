/**
 * AwsCustomResource-style: the same API calls as our handler's Create (GetSecretValue of the
 * request's version, GetBuckets, GetBucketAccessKeys, CreateBucketAccessKey, PutSecretValue), with
 * the SDK clients loaded at run time from node_modules, unbundled, as aws-cdk-lib's
 * AwsCustomResource handler loads `@aws-sdk/client-*` from the Lambda runtime. Compiled by
 * bench/variants.ts with every package left external (NODE_PATH points at node_modules).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  CreateBucketAccessKeyCommand,
  GetBucketAccessKeysCommand,
  GetBucketsCommand,
  LightsailClient,
} from '@aws-sdk/client-lightsail';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const lightsail = new LightsailClient({});
const secretsManager = new SecretsManagerClient({});

async function storedVersionExists(secretArn: string, versionId: string): Promise<boolean> {
  try {
    await secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: versionId }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') {
      return false;
    }
    throw error;
  }
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string }> {
  const bucketName = String(event.ResourceProperties.BucketName);
  const secretArn = String(event.ResourceProperties.SecretArn);
  if (await storedVersionExists(secretArn, event.RequestId)) {
    throw new Error('this benchmark only sends fresh Creates');
  }
  const { buckets } = await lightsail.send(new GetBucketsCommand({ bucketName }));
  const { accessKeys } = await lightsail.send(new GetBucketAccessKeysCommand({ bucketName }));
  if ((accessKeys ?? []).length >= 2) {
    throw new Error(`bucket ${bucketName} is full`);
  }
  const { accessKey } = await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName }));
  const accessKeyId = accessKey?.accessKeyId ?? '';
  await secretsManager.send(new PutSecretValueCommand({
    SecretId: secretArn,
    ClientRequestToken: event.RequestId,
    SecretString: JSON.stringify({
      accessKeyId,
      secretAccessKey: accessKey?.secretAccessKey,
      bucketName,
      region: process.env.AWS_REGION,
      bucketUrl: buckets?.[0]?.url,
    }),
  }));
  return { PhysicalResourceId: accessKeyId };
}
