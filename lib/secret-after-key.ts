import { Fn, IResolveContext, Lazy, RemovalPolicy, Resource, SecretValue, SecretsManagerSecretOptions, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { aws_secretsmanager as secretsmanagerRefs } from 'aws-cdk-lib/interfaces';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * A key's secret as the key hands it out (`key.secret`): the same secret, whose ARN and name make a
 * consumer in the key's stack wait for the key's custom resource, the one that writes the key into the
 * secret. CloudFormation orders resources only by `Ref`, `Fn::GetAtt` and `DependsOn`; the secret's
 * own `Ref` would let it create a consumer while the secret is still empty (a dynamic reference then
 * fails, "can't find the specified secret value for staging label: AWSCURRENT"; an ECS task cannot
 * start), or, in a serial bump, update a consumer with the old key that the cleanup then deletes.
 * aws-cdk-lib's `SecretTargetAttachment` hands out its secret the same way, by a reference to the
 * resource that comes after it.
 *
 * Grants, resource policies, rotation schedules and removal policies go to the secret itself, so that
 * IAM statements and KMS key policies name the secret as they always did and never wait for the key.
 */
export class SecretAfterKey extends Resource implements secretsmanager.ISecret {
  public readonly encryptionKey?: kms.IKey;
  public readonly secretArn: string;
  public readonly secretFullArn?: string;
  public readonly secretName: string;

  private readonly keySecret: secretsmanager.ISecret;

  /**
   * @param keySecret the key's own secret, which the custom resource fills
   * @param keyAttribute an attribute of the key's custom resource that every response holds
   */
  constructor(scope: Construct, id: string, keySecret: secretsmanager.ISecret, keyAttribute: string) {
    super(scope, id);
    this.keySecret = keySecret;
    this.encryptionKey = keySecret.encryptionKey;
    this.secretArn = afterKey(this.stack, keySecret.secretArn, keyAttribute);
    this.secretFullArn = keySecret.secretFullArn === undefined ? undefined : afterKey(this.stack, keySecret.secretFullArn, keyAttribute);
    this.secretName = afterKey(this.stack, keySecret.secretName, keyAttribute);
  }

  public get secretRef(): secretsmanagerRefs.SecretReference {
    return { secretId: this.secretArn };
  }

  public get secretValue(): SecretValue {
    return this.secretValueFromJson('');
  }

  public secretValueFromJson(jsonField: string): SecretValue {
    return SecretValue.secretsManager(this.secretArn, { jsonField });
  }

  public cfnDynamicReferenceKey(options: SecretsManagerSecretOptions = {}): string {
    return SecretValue.cfnDynamicReferenceKey(this.secretArn, options);
  }

  public grantRead(grantee: iam.IGrantable, versionStages?: string[]): iam.Grant {
    return this.keySecret.grantRead(grantee, versionStages);
  }

  public grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.keySecret.grantWrite(grantee);
  }

  public addRotationSchedule(id: string, options: secretsmanager.RotationScheduleOptions): secretsmanager.RotationSchedule {
    return this.keySecret.addRotationSchedule(id, options);
  }

  public addToResourcePolicy(statement: iam.PolicyStatement): iam.AddToResourcePolicyResult {
    return this.keySecret.addToResourcePolicy(statement);
  }

  public denyAccountRootDelete(): void {
    this.keySecret.denyAccountRootDelete();
  }

  public attach(target: secretsmanager.ISecretAttachmentTarget): secretsmanager.ISecret {
    return this.keySecret.attach(target);
  }

  public applyRemovalPolicy(policy: RemovalPolicy): void {
    this.keySecret.applyRemovalPolicy(policy);
  }
}

/**
 * `value` for a consumer deployed with the key's stack (itself, or a stack nested in the same
 * parent), also naming the key's custom resource: `Fn::Select` picks `value`, the attribute is there
 * for the order (the Fn::Select reference: its list of objects may hold `Ref` and `Fn::GetAtt`).
 * The attribute is one every response of the custom resource has always held, so a stack deployed with
 * an older version of this library can `Fn::GetAtt` it without an update of the key; a new attribute
 * would fail such an upgrade ("CustomResource attribute error: Vendor response doesn't contain ...",
 * aws/aws-cdk#29949: CloudFormation reads attributes from the last stored response).
 *
 * A consumer of another top-level stack gets `value` alone: CDK exports it, that stack is deployed
 * after the whole key's stack anyway, and "you can't modify or remove an output value that is
 * referenced by another stack" (Fn::ImportValue reference), so an exported key attribute would make
 * every serial bump fail, and a changed export of the secret's ARN would fail the upgrade
 * (aws/aws-cdk#12778). Resolved per consuming stack, as aws-cdk-lib's `SecretBase.arnForPolicies` is.
 */
function afterKey(keyStack: Stack, value: string, keyAttribute: string): string {
  return Lazy.uncachedString({
    produce: (context: IResolveContext) =>
      deploymentOf(Stack.of(context.scope)) === deploymentOf(keyStack) ? Fn.select(0, [value, keyAttribute]) : value,
  });
}

/** The top-level stack CloudFormation deploys a stack with: nested stacks are resources of their parent. */
function deploymentOf(stack: Stack): Stack {
  return stack.nestedStackParent ? deploymentOf(stack.nestedStackParent) : stack;
}
