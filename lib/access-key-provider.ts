import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** The handler bundles that `npm run build` writes and `npm pack` ships. */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'lambda', 'dist', 'on-event');
export const ROTATION_ASSET_DIR = path.join(__dirname, '..', 'lambda', 'dist', 'rotation');

const PROVIDER_ID = 'LightsailBucketAccessKeyProvider';

interface FunctionSpec {
  readonly roleId: string;
  readonly functionId: string;
  readonly assetDir: string;
  readonly description: string;
  readonly timeout: Duration;
}

/**
 * What every LightsailBucketAccessKey of a stack shares: the custom-resource provider (its handler
 * function and the framework function), the rotation function once a key rotates, their roles and
 * one log group, whatever the number of keys.
 */
export class AccessKeyProvider extends Construct {
  /** The stack's provider, created on first use. */
  public static of(scope: Construct): AccessKeyProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID);
    return existing instanceof AccessKeyProvider ? existing : new AccessKeyProvider(stack, PROVIDER_ID);
  }

  public readonly serviceToken: string;
  /** Role of the onEvent handler; each key grants it access to its own bucket and secret. */
  public readonly handlerRole: iam.IRole;

  private readonly logGroup: logs.LogGroup;
  private rotation?: lambda.Function;

  private constructor(scope: Construct, id: string) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const onEvent = this.lightsailFunction({
      roleId: 'HandlerRole',
      functionId: 'OnEventHandler',
      assetDir: HANDLER_ASSET_DIR,
      description: 'Creates and deletes Lightsail bucket access keys; stores each secret in Secrets Manager',
      // Longer than the worst case of every SDK call retrying after timeouts, so a failed create
      // still reaches its clean-up; shorter than the custom resource's service timeout.
      timeout: Duration.minutes(5),
    });
    this.handlerRole = onEvent.role!;

    const frameworkRole = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Lightsail bucket access key provider framework: invokes the handler',
    });
    this.logGroup.grantWrite(frameworkRole);

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      frameworkOnEventRole: frameworkRole,
      logGroup: this.logGroup,
    });
    this.serviceToken = provider.serviceToken;
  }

  /** The function Secrets Manager calls to rotate the stack's keys, created on first use. */
  public rotationFunction(): lambda.IFunction {
    if (!this.rotation) {
      this.rotation = this.lightsailFunction({
        roleId: 'RotationRole',
        functionId: 'RotationFunction',
        assetDir: ROTATION_ASSET_DIR,
        description: 'Rotates Lightsail bucket access keys stored in Secrets Manager',
        // Covers testSecret's wait for a new key to propagate, after retried SDK calls.
        timeout: Duration.minutes(2),
      });
      this.rotation.addPermission('InvokedBySecretsManager', {
        principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
        sourceAccount: Stack.of(this).account,
      });
    }
    return this.rotation;
  }

  /** A function with its own role: logs to the shared log group, reads any bucket's key list. */
  private lightsailFunction(spec: FunctionSpec): lambda.Function {
    // Own roles instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
    const role = new iam.Role(this, spec.roleId, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${spec.description}: each key adds its own bucket and secret`,
    });
    this.logGroup.grantWrite(role);
    // GetBuckets and GetBucketAccessKeys support no resource type: they take only "*".
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['lightsail:GetBuckets', 'lightsail:GetBucketAccessKeys'],
      resources: ['*'],
    }));
    return new lambda.Function(this, spec.functionId, {
      description: spec.description,
      code: lambda.Code.fromAsset(spec.assetDir),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: spec.timeout,
      role,
      logGroup: this.logGroup,
    });
  }
}
