import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

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
  if (!secret.encryptionKey) {
    return secret.grantRead(grantee);
  }
  // The secret's grantRead would also add the grantee to the encryption key's policy: for a grantee
  // of another stack, the key's stack would then reference the grantee's stack, which references the
  // key's stack (a dependency cycle). The grantee's own policy suffices: the key policy of a CDK key
  // lets the account's IAM policies grant its use.
  const principal = grantee.grantPrincipal;
  const read = Construct.isConstruct(principal) && Stack.of(principal) !== Stack.of(secret)
    ? iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resourceArns: [secret.secretArn],
      resource: secret,
    })
    : secret.grantRead(grantee);
  return read.combine(grantEncryptionKeyThroughSecretsManager(secret, grantee, 'kms:Decrypt'));
}
