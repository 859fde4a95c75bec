import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct } from 'constructs';
import { HANDLER_ASSET_DIR, ROTATION_ASSET_DIR } from './handler-assets';
import { KeyManagementRequest, RoleStatements } from './key-grants';

/**
 * Properties of a LightsailBucketAccessKeyProvider.
 */
export interface LightsailBucketAccessKeyProviderProps {
  /**
   * The VPC to place the provider's functions in: the onEvent handler, the rotation function and the
   * Provider framework's function.
   *
   * The functions call the Lightsail API, which has no interface VPC endpoint, so the subnets need a
   * route to the internet (a NAT gateway). They also call Secrets Manager, Lambda (the framework
   * invokes the handler), CloudFormation's response URL in S3 and, to test a rotated key, the
   * bucket's S3 endpoint: through the NAT gateway, or through VPC endpoints for those services.
   *
   * @default - the functions run outside any VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Where in `vpc` to place the functions.
   *
   * @default - the VPC's private subnets (Lambda's default)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The security groups of the functions in `vpc`. They must allow outbound HTTPS.
   *
   * @default - each function gets its own security group that allows all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The log group of the provider's functions (the onEvent handler, the rotation function and the
   * Provider framework's function), for example a `logs.LogGroup` with your retention, encryption
   * key and removal policy. The functions' roles get `logs:CreateLogStream` and `logs:PutLogEvents`
   * on it.
   *
   * Give `logGroup` or `logRetention`, not both.
   *
   * @default - a log group of the provider's own that keeps logs for `logRetention` and is deleted with the stack
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * How long the provider's own log group keeps the functions' logs.
   *
   * @deprecated Use `logGroup` (a `logs.LogGroup` with its `retention`), as aws-cdk-lib prefers
   * over `logRetention` (aws/aws-cdk#28737). Still honoured when `logGroup` is not given.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

interface FunctionSpec {
  readonly roleId: string;
  readonly functionId: string;
  readonly assetDir: string;
  readonly description: string;
  readonly timeout: Duration;
}

/**
 * What the LightsailBucketAccessKeys of a stack share: the custom-resource provider (its onEvent
 * handler and the Provider framework's function), the rotation function once a key rotates, their
 * roles and one log group, whatever the number of keys.
 *
 * A key uses `LightsailBucketAccessKeyProvider.of(key)` unless given a `provider`. To configure the
 * stack's default provider, create it with the id `LightsailBucketAccessKeyProvider.DEFAULT_ID` at
 * the root of the stack before any key: keys that are not given a `provider` then use it, and its
 * resources keep the logical ids of the default one, so a deployed stack can adopt it without
 * replacing anything. A provider created with any other id serves only the keys it is given; a
 * stack may have several (each with its own functions, roles and log group).
 *
 * A provider serves keys of its own stack only.
 */
export class LightsailBucketAccessKeyProvider extends Construct {
  /**
   * The construct id of a stack's default provider, at the root of the stack.
   *
   * The custom resources' service token is the ARN of a function under this id, and CloudFormation
   * does not allow a custom resource's service token to change: keep it for stacks already deployed.
   */
  public static readonly DEFAULT_ID = 'LightsailBucketAccessKeyProvider';

  /**
   * The default provider of the scope's stack: the one under `DEFAULT_ID` at the stack's root,
   * created with default properties on first use.
   *
   * @param scope any construct of the stack
   */
  public static of(scope: IConstruct): LightsailBucketAccessKeyProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(LightsailBucketAccessKeyProvider.DEFAULT_ID);
    if (existing === undefined) {
      return new LightsailBucketAccessKeyProvider(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID);
    }
    if (!(existing instanceof LightsailBucketAccessKeyProvider)) {
      throw new Error(`${stack.node.path}/${LightsailBucketAccessKeyProvider.DEFAULT_ID} is not a LightsailBucketAccessKeyProvider: that id at the root of a stack is reserved for the stack's default provider`);
    }
    return existing;
  }

  /** The token that a custom resource served by this provider takes as its service token. */
  public readonly serviceToken: string;

  /**
   * The function that creates and deletes the keys; the Provider framework's function invokes it.
   * For monitoring: `onEventFunction.metricErrors()`.
   */
  public readonly onEventFunction: lambda.IFunction;

  private readonly props: LightsailBucketAccessKeyProviderProps;
  private readonly logGroup: logs.ILogGroup;
  private readonly handlerRole: iam.Role;
  private handlerStatements?: RoleStatements;
  private rotation?: { readonly function: lambda.Function; readonly statements: RoleStatements };

  /**
   * Defines a provider. To configure a stack's default provider, use the id `DEFAULT_ID` at the
   * root of the stack, before the stack's first key.
   *
   * @param scope the scope of the provider: the root of its stack for the default provider
   * @param id the provider's construct id (`DEFAULT_ID` for the stack's default provider)
   * @param props the provider's VPC and log settings
   */
  constructor(scope: Construct, id: string, props: LightsailBucketAccessKeyProviderProps = {}) {
    if (id === LightsailBucketAccessKeyProvider.DEFAULT_ID && scope.node.tryFindChild(id) instanceof LightsailBucketAccessKeyProvider) {
      throw new Error(`LightsailBucketAccessKeyProvider ${scope.node.path}/${id}: the stack's default provider already exists, ` +
        'created by a key given no "provider": create the configured default provider before the first key of the stack');
    }
    super(scope, id);
    this.props = props;
    this.validate();

    this.logGroup = props.logGroup ?? new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
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
    this.onEventFunction = onEvent.function;
    this.handlerRole = onEvent.role;

    const frameworkRole = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Lightsail bucket access key provider framework: invokes the handler',
    });
    this.logGroup.grantWrite(frameworkRole);
    this.grantNetworkInterfaces(frameworkRole);

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEventFunction,
      frameworkOnEventRole: frameworkRole,
      logGroup: this.logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
    });
    this.serviceToken = provider.serviceToken;
  }

  /**
   * The function Secrets Manager calls to rotate the keys of this provider's stack, once a key with
   * `rotation` uses this provider; `undefined` until then. For monitoring: `rotationFunction.metricErrors()`.
   */
  public get rotationFunction(): lambda.IFunction | undefined {
    return this.rotation?.function;
  }

  /**
   * The statements a key needs on the handler's role: creating keys of its bucket, deleting the keys
   * it leaves behind, its secret and encryption key. `request.dependent` (the key's custom resource)
   * is created after them and deleted before them. See RoleStatements for why each is scoped as it is.
   * @internal
   */
  public _grantKeyManagement(request: KeyManagementRequest): void {
    // Secret reads and writes of the default Provider's framework role would go here too; it has none.
    this.handlerStatements ??= new RoleStatements(
      this.handlerRole,
      ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
      ['lightsail:CreateBucketAccessKey'],
      true,
    );
    this.handlerStatements.grantKey(request);
  }

  /** The rotation function, created on first use. @internal */
  public _rotationFunctionForKey(): lambda.IFunction {
    if (!this.rotation) {
      const rotation = this.lightsailFunction({
        roleId: 'RotationRole',
        functionId: 'RotationFunction',
        assetDir: ROTATION_ASSET_DIR,
        description: 'Rotates Lightsail bucket access keys stored in Secrets Manager',
        // Covers testSecret's wait for a new key to propagate, after retried SDK calls.
        timeout: Duration.minutes(2),
      });
      rotation.function.addPermission('InvokedBySecretsManager', {
        principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
        sourceAccount: Stack.of(this).account,
      });
      // Rotation works on the key's current bucket only: it never cleans up after a template change.
      const statements = new RoleStatements(
        rotation.role,
        ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        ['lightsail:CreateBucketAccessKey', 'lightsail:DeleteBucketAccessKey'],
        false,
      );
      this.rotation = { function: rotation.function, statements };
    }
    return this.rotation.function;
  }

  /**
   * The statements a rotating key needs on the rotation function's role: its bucket, secret and
   * encryption key. `request.dependent` (the key's rotation schedule) comes after them. @internal
   */
  public _grantKeyRotation(request: KeyManagementRequest): void {
    this._rotationFunctionForKey();
    this.rotation!.statements.grantKey(request);
  }

  /** A function with its own role: logs to the shared log group, reads any bucket's key list. */
  private lightsailFunction(spec: FunctionSpec): { function: lambda.Function; role: iam.Role } {
    // Own roles instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
    const role = new iam.Role(this, spec.roleId, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${spec.description}: each key adds its own bucket and secret`,
    });
    this.logGroup.grantWrite(role);
    // GetBuckets, GetBucketAccessKeys and GetOperation support no resource type: they take only "*".
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['lightsail:GetBuckets', 'lightsail:GetBucketAccessKeys', 'lightsail:GetOperation'],
      resources: ['*'],
    }));
    this.grantNetworkInterfaces(role);
    const fn = new lambda.Function(this, spec.functionId, {
      description: spec.description,
      code: lambda.Code.fromAsset(spec.assetDir),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: spec.timeout,
      role,
      logGroup: this.logGroup,
      vpc: this.props.vpc,
      vpcSubnets: this.props.vpcSubnets,
      securityGroups: this.props.securityGroups,
    });
    return { function: fn, role };
  }

  /**
   * In a VPC, Lambda creates the function's network interfaces with the function's role. A Function
   * given a role adds nothing for that, so this grants the EC2 actions of the AWS managed policy
   * AWSLambdaVPCAccessExecutionRole (not its logs:* on "*"). The ENIs do not exist at synth time and
   * DescribeNetworkInterfaces supports only "*". The function depends on its role's policy, so the
   * permissions exist when Lambda creates it.
   */
  private grantNetworkInterfaces(role: iam.Role): void {
    if (!this.props.vpc) {
      return;
    }
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ['*'],
    }));
  }

  private validate(): void {
    const fail = (message: string): never => {
      throw new Error(`LightsailBucketAccessKeyProvider ${this.node.path}: ${message}`);
    };
    if (!this.props.vpc && this.props.vpcSubnets) {
      fail('"vpcSubnets" needs "vpc": the subnets are selected from it');
    }
    if (!this.props.vpc && this.props.securityGroups) {
      fail('"securityGroups" needs "vpc": security groups apply only to functions in a VPC');
    }
    if (this.props.logGroup && this.props.logRetention !== undefined) {
      fail('give "logGroup" or "logRetention", not both: set the retention on the log group you pass');
    }
  }
}
