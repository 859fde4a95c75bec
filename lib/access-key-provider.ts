import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** The handler bundle that `npm run build` writes and `npm pack` ships. */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'lambda', 'dist', 'on-event');

const PROVIDER_ID = 'LightsailBucketAccessKeyProvider';

/**
 * The custom-resource provider shared by every LightsailBucketAccessKey of a stack: one handler
 * function, its role and one log group, whatever the number of keys.
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

  private constructor(scope: Construct, id: string) {
    super(scope, id);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Own roles instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
    const handlerRole = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Lightsail bucket access key handler: each key adds its own bucket and secret',
    });
    logGroup.grantWrite(handlerRole);
    // GetBuckets and GetBucketAccessKeys support no resource type: they take only "*".
    handlerRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['lightsail:GetBuckets', 'lightsail:GetBucketAccessKeys'],
      resources: ['*'],
    }));
    this.handlerRole = handlerRole;

    const onEvent = new lambda.Function(this, 'OnEventHandler', {
      description: 'Creates and deletes Lightsail bucket access keys; stores each secret in Secrets Manager',
      code: lambda.Code.fromAsset(HANDLER_ASSET_DIR),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // Longer than the worst case of every SDK call retrying after timeouts, so a failed create
      // still reaches its clean-up; shorter than the custom resource's service timeout.
      timeout: Duration.minutes(5),
      role: handlerRole,
      logGroup,
    });

    const frameworkRole = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Lightsail bucket access key provider framework: invokes the handler',
    });
    logGroup.grantWrite(frameworkRole);

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      frameworkOnEventRole: frameworkRole,
      logGroup,
    });
    this.serviceToken = provider.serviceToken;
  }
}
