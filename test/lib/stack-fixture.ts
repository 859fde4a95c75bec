import { App, CfnElement, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LightsailBucketAccessKey } from '../../lib';

/** A concrete environment, so that regions and accounts render as literals. */
export const ENV = { account: '123456789012', region: 'us-east-1' };

/** The custom resource type, spelled out: a change to it is a breaking change to deployed stacks. */
export const RESOURCE_TYPE = 'Custom::LightsailBucketAccessKey';

/** A stack in a new app; `{}` gives an environment-agnostic stack. */
export function newStack(props: StackProps = { env: ENV }, id = 'S'): Stack {
  return new Stack(new App(), id, props);
}

/** Logical id of the key's custom resource, found through the construct tree (not through the key's attributes). */
export function customResourceId(key: LightsailBucketAccessKey): string {
  return Stack.of(key).getLogicalId(key.node.findChild('Resource').node.defaultChild as CfnElement);
}

/** Logical id of the key's secret, found through the construct tree. */
export function secretId(key: LightsailBucketAccessKey): string {
  return Stack.of(key).getLogicalId(key.node.findChild('Secret').node.defaultChild as CfnElement);
}

/**
 * The secret's ARN as a consumer in the key's stack gets it (`key.secret.secretArn`): the secret's
 * `Ref`, also naming the key's custom resource so that the consumer comes after the key.
 */
export function secretArnAfterKey(key: LightsailBucketAccessKey): unknown {
  return { 'Fn::Select': [0, [{ Ref: secretId(key) }, { 'Fn::GetAtt': [customResourceId(key), 'AccessKeyId'] }]] };
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

/** A statement's actions, always as an array. */
export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** A statement's resources, always as an array. */
export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Logical id of the onEvent handler function: the one the Provider framework's function invokes. */
export function handlerFunctionId(template: Template): string {
  const frameworks = template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'framework.onEvent' } });
  const ids = Object.values(frameworks).map((framework) => framework.Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN['Fn::GetAtt'][0]);
  if (ids.length !== 1) {
    throw new Error(`expected one onEvent handler function, found ${ids.length}`);
  }
  return ids[0];
}

/** Logical id of the onEvent handler's role. */
export function handlerRoleId(template: Template): string {
  const handler = template.findResources('AWS::Lambda::Function')[handlerFunctionId(template)];
  return handler.Properties.Role['Fn::GetAtt'][0];
}

/** The identity policy attached to the onEvent handler's role: its logical id and statements. */
export function handlerPolicy(template: Template): { id: string; statements: Statement[] } {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: handlerRoleId(template) }] } });
  const ids = Object.keys(policies);
  if (ids.length !== 1) {
    throw new Error(`expected one policy of the handler role, found ${ids.length}`);
  }
  return { id: ids[0], statements: policies[ids[0]].Properties.PolicyDocument.Statement };
}

/** Every statement of every IAM identity policy of the template (policies, managed policies, roles' inline policies). */
export function identityPolicyStatements(template: Template): Statement[] {
  const statements: Statement[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const policy of Object.values(template.findResources(type))) {
      statements.push(...policy.Properties.PolicyDocument.Statement);
    }
  }
  for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
    for (const inline of role.Properties.Policies ?? []) {
      statements.push(...inline.PolicyDocument.Statement);
    }
  }
  return statements;
}

/** The statements of a KMS key's key policy. */
export function keyPolicyStatements(template: Template, keyId: string): Statement[] {
  return template.findResources('AWS::KMS::Key')[keyId].Properties.KeyPolicy.Statement;
}
