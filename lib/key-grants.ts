import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * KMS actions on the secret's encryption key, only through Secrets Manager, in the grantee's own
 * policy: the key policy of an imported key cannot be changed, and a grant in the role's policy can
 * be made a dependency of the custom resource. Secrets Manager calls KMS in the secret's region.
 */
export function grantEncryptionKeyThroughSecretsManager(secret: secretsmanager.ISecret, grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions,
    resourceArns: [secret.encryptionKey!.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${secret.env.region}.amazonaws.com` } },
  });
}

/** Reading a key's secret, and decrypting it when a customer managed key encrypts it. */
export function grantReadKeySecret(secret: secretsmanager.ISecret, grantee: iam.IGrantable): iam.Grant {
  const grant = secret.grantRead(grantee);
  return secret.encryptionKey ? grant.combine(grantEncryptionKeyThroughSecretsManager(secret, grantee, 'kms:Decrypt')) : grant;
}
