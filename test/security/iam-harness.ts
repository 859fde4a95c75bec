/**
 * Evaluates a synthesized role's IAM policies with @cloud-copilot/iam-simulate, after resolving the
 * template's intrinsics to the concrete ARNs a deployment to ACCOUNT/REGION would produce.
 */
import { createHash } from 'crypto';
import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const OTHER_ACCOUNT = '210987654321';
export const OTHER_REGION = 'eu-west-1';

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement[];
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  Principal?: unknown;
  Sid?: string;
}

export interface IdentityPolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

/** A deterministic UUID for a logical id, so that ARNs are stable from run to run. */
export function uuidFor(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The stack-level tags CloudFormation adds to the resources it creates (where the type takes them). */
export function cloudFormationTags(stackId: string, stackName: string, logicalId: string): Record<string, string> {
  return { 'aws:cloudformation:stack-id': stackId, 'aws:cloudformation:stack-name': stackName, 'aws:cloudformation:logical-id': logicalId };
}

/** The suffix Secrets Manager appends to a secret's name in its ARN: a hyphen and six characters. */
function secretSuffix(seed: string): string {
  return createHash('sha256').update(seed).digest('base64').replace(/[^A-Za-z]/g, '').slice(0, 6);
}

/**
 * Resolves `Ref`, `Fn::GetAtt` and `Fn::Join` (and the pseudo parameters) against concrete values for
 * the resource types these stacks contain. Anything else throws: an intrinsic the resolver does not
 * understand must never reach the simulator as an object.
 */
export class ConcreteTemplate {
  /** The id CloudFormation gives the stack: `AWS::StackId`, and the value of its stack-id tag. */
  readonly stackId: string;

  constructor(public readonly template: CfnTemplate, private readonly stackName: string) {
    this.stackId = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/${uuidFor(`stack ${stackName}`)}`;
  }

  /**
   * The tags CloudFormation gives a resource of this template, by ARN: its stack-level aws:cloudformation
   * tags, on the types whose schema declares `cloudFormationSystemTags` (of these stacks' resources, the
   * secrets: lib/key-grants.ts has the sources). Lightsail buckets get none. Anything else: no tags.
   */
  tagsOf(arn: string): Record<string, string> {
    const secret = Object.entries(this.template.Resources)
      .find(([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && this.ref(id) === arn);
    return secret ? cloudFormationTags(this.stackId, this.stackName, secret[0]) : {};
  }

  private resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) {
      throw new Error(`no resource ${logicalId} in the template`);
    }
    return resource;
  }

  private physicalName(logicalId: string): string {
    return `${this.stackName}-${logicalId.slice(0, 30)}-${uuidFor(logicalId).slice(0, 12).replace('-', '')}`;
  }

  ref(logicalId: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
      'AWS::StackId': this.stackId,
    };
    if (logicalId in pseudo) {
      return pseudo[logicalId];
    }
    const { Type, Properties = {} } = this.resource(logicalId);
    switch (Type) {
      case 'AWS::SecretsManager::Secret': {
        const name = typeof Properties.Name === 'string' ? Properties.Name : this.physicalName(logicalId);
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${secretSuffix(logicalId)}`;
      }
      case 'AWS::Lightsail::Bucket':
        return this.literal(Properties.BucketName, `${logicalId}.BucketName`);
      case 'AWS::KMS::Key':
        return uuidFor(logicalId);
      case 'AWS::Logs::LogGroup':
      case 'AWS::Lambda::Function':
      case 'AWS::IAM::Role':
        return this.physicalName(logicalId);
      default:
        throw new Error(`Ref of ${logicalId} (${Type}) is not supported by the resolver`);
    }
  }

  getAtt(logicalId: string, attribute: string): string {
    const { Type } = this.resource(logicalId);
    const name = (): string => this.ref(logicalId);
    const attributes: Record<string, Record<string, () => string>> = {
      'AWS::Lightsail::Bucket': { BucketArn: () => `arn:aws:lightsail:${REGION}:${ACCOUNT}:Bucket/${uuidFor(logicalId)}` },
      'AWS::KMS::Key': { Arn: () => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name()}` },
      // CloudFormation's log group Arn ends in ":*".
      'AWS::Logs::LogGroup': { Arn: () => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name()}:*` },
      'AWS::Lambda::Function': { Arn: () => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name()}` },
      'AWS::IAM::Role': { Arn: () => `arn:aws:iam::${ACCOUNT}:role/${name()}` },
    };
    const produce = attributes[Type]?.[attribute];
    if (!produce) {
      throw new Error(`Fn::GetAtt ${logicalId}.${attribute} (${Type}) is not supported by the resolver`);
    }
    return produce();
  }

  /** A copy of `value` with every intrinsic replaced by its concrete value. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolve(item));
    }
    if (value === null || typeof value !== 'object') {
      return value;
    }
    const entries = Object.entries(value);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key === 'Ref') {
      return this.ref(this.literal(argument, 'Ref'));
    }
    if (entries.length === 1 && key === 'Fn::GetAtt') {
      const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split('.');
      return this.getAtt(this.literal(logicalId, 'Fn::GetAtt'), this.literal(attribute, 'Fn::GetAtt'));
    }
    if (entries.length === 1 && key === 'Fn::Join') {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((part) => this.literal(this.resolve(part), 'Fn::Join')).join(separator);
    }
    if (entries.length === 1 && (key.startsWith('Fn::') || key === 'Condition')) {
      throw new Error(`${key} is not supported by the resolver`);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  private literal(value: unknown, where: string): string {
    if (typeof value !== 'string') {
      throw new Error(`${where}: expected a string, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  /**
   * Every identity policy attached to a role, resolved: AWS::IAM::Policy and AWS::IAM::ManagedPolicy
   * resources that name it, and its inline policies. Managed policy ARNs and permissions boundaries
   * cannot be evaluated from the template, so a role with either is refused.
   */
  rolePolicies(roleLogicalId: string): IdentityPolicy[] {
    const role = this.resource(roleLogicalId);
    for (const property of ['ManagedPolicyArns', 'PermissionsBoundary']) {
      if (role.Properties?.[property] !== undefined) {
        throw new Error(`role ${roleLogicalId} has ${property}: the harness cannot evaluate it from the template`);
      }
    }
    const attached = Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .filter(([, r]) => ((r.Properties?.Roles ?? []) as unknown[]).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleLogicalId })))
      .map(([id, r]) => ({ name: id, policy: this.resolve(r.Properties?.PolicyDocument) as PolicyDocument }));
    const inline = ((role.Properties?.Policies ?? []) as Array<{ PolicyName: string; PolicyDocument: unknown }>)
      .map((p) => ({ name: `${roleLogicalId}/${p.PolicyName}`, policy: this.resolve(p.PolicyDocument) as PolicyDocument }));
    return [...attached, ...inline];
  }

  /** The resolved key policy of a KMS key of the template. */
  keyPolicy(keyLogicalId: string): PolicyDocument {
    return this.resolve(this.resource(keyLogicalId).Properties?.KeyPolicy) as PolicyDocument;
  }

  /**
   * The resource-based policy Lambda builds from the template's AWS::Lambda::Permission resources
   * that name a function (by ARN or name), the way Lambda writes it: Principal, SourceAccount and
   * SourceArn become the statement's principal and conditions. Properties it does not translate throw.
   */
  functionPolicy(functionLogicalId: string): PolicyDocument {
    const arn = this.getAtt(functionLogicalId, 'Arn');
    const names = [arn, this.ref(functionLogicalId)];
    const statements = Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Permission')
      .map(([id, r]) => ({ id, properties: this.resolve(r.Properties ?? {}) as Record<string, unknown> }))
      .filter(({ properties }) => names.includes(this.literal(properties.FunctionName, 'FunctionName')))
      .map(({ id, properties }): PolicyStatement => {
        const { Action, FunctionName: _name, Principal, SourceAccount, SourceArn, ...rest } = properties;
        if (Object.keys(rest).length > 0) {
          throw new Error(`${id}: ${Object.keys(rest).join(', ')} not supported by the resolver`);
        }
        const principal = this.literal(Principal, `${id}.Principal`);
        const condition: Record<string, Record<string, string>> = {};
        if (SourceAccount !== undefined) {
          condition.StringEquals = { 'AWS:SourceAccount': this.literal(SourceAccount, `${id}.SourceAccount`) };
        }
        if (SourceArn !== undefined) {
          condition.ArnLike = { 'AWS:SourceArn': this.literal(SourceArn, `${id}.SourceArn`) };
        }
        return {
          Sid: id,
          Effect: 'Allow',
          Principal: principal === '*' ? '*'
            : /^\d{12}$/.test(principal) ? { AWS: `arn:aws:iam::${principal}:root` }
              : principal.startsWith('arn:') ? { AWS: principal } : { Service: principal },
          Action: this.literal(Action, `${id}.Action`),
          Resource: arn,
          ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
        };
      });
    return { Version: '2012-10-17', Statement: statements };
  }
}

export interface SimulatedRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
  /** The resource's own policy (a KMS key policy), when it has one. */
  readonly resourcePolicy?: PolicyDocument;
  /** The resource's tags: `aws:ResourceTag/<key>` in the request context. */
  readonly resourceTags?: Record<string, string>;
}

export interface Decision {
  /** AWS's final decision. */
  readonly result: EvaluationResult;
  /** What the role's own identity policies decide, whatever the resource policy says. */
  readonly identity: EvaluationResult | undefined;
}

/** The account an ARN belongs to (the principal's account for ARNs that name none, like "*"). */
function accountOf(arn: string): string {
  const account = arn.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : ACCOUNT;
}

/**
 * Simulates one request of `principal` under `policies`. Refuses requests the simulator would not
 * evaluate as given: invalid input, a wildcard resource, or context keys that do not apply.
 */
export async function simulate(principal: string, policies: IdentityPolicy[], request: SimulatedRequest): Promise<Decision> {
  const response = await runSimulation({
    request: {
      principal,
      action: request.action,
      resource: { resource: request.resource, accountId: accountOf(request.resource) },
      contextVariables: {
        ...request.context,
        ...Object.fromEntries(Object.entries(request.resourceTags ?? {}).map(([key, value]) => [`aws:ResourceTag/${key}`, value])),
      },
    },
    identityPolicies: policies.map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy,
  }, { simulationMode: 'Strict' });
  if (response.resultType === 'error') {
    throw new Error(`simulation of ${request.action} on ${request.resource} refused: ${JSON.stringify(response.errors)}`);
  }
  if (response.resultType !== 'single') {
    throw new Error(`${request.action} on ${request.resource}: a concrete resource was expected, got a ${response.resultType} simulation`);
  }
  if ((response.result.ignoredContextKeys ?? []).length > 0) {
    throw new Error(`${request.action}: context keys ${response.result.ignoredContextKeys?.join(', ')} do not apply and were ignored`);
  }
  return { result: response.overallResult, identity: response.result.analysis.identityAnalysis?.result };
}
