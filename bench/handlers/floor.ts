/**
 * The floor: the least a Create can do. One CreateBucketAccessKey, one PutSecretValue, nothing
 * else (no idempotency read, no bucket check, no clean-up). Compiled by bench/variants.ts, either
 * bundled with the handler's own esbuild flags or with the SDK left external (loaded from
 * node_modules through NODE_PATH).
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { CreateBucketAccessKeyCommand, LightsailClient } from '@aws-sdk/client-lightsail';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const lightsail = new LightsailClient({});
const secretsManager = new SecretsManagerClient({});

export async function handler(event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string }> {
  const bucketName = String(event.ResourceProperties.BucketName);
  const { accessKey } = await lightsail.send(new CreateBucketAccessKeyCommand({ bucketName }));
  const accessKeyId = accessKey?.accessKeyId ?? '';
  await secretsManager.send(new PutSecretValueCommand({
    SecretId: String(event.ResourceProperties.SecretArn),
    ClientRequestToken: event.RequestId,
    SecretString: JSON.stringify({
      accessKeyId,
      secretAccessKey: accessKey?.secretAccessKey,
      bucketName,
      region: process.env.AWS_REGION,
    }),
  }));
  return { PhysicalResourceId: accessKeyId };
}
