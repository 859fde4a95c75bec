/**
 * A synthesized CloudFormation template, and the few intrinsic functions our stacks use, resolved
 * against the physical ids and attributes the emulator handed out.
 */

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface Template {
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown }>;
}

export interface ResolveContext {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** What `AWS::StackId` returns. */
  readonly stackId?: string;
  /** What `Ref` returns, by logical id. */
  readonly refs: Record<string, string>;
  /** What `Fn::GetAtt` returns, by logical id and attribute. */
  readonly attributes: Record<string, Record<string, string>>;
}

function pseudoParameter(name: string, context: ResolveContext): string | undefined {
  switch (name) {
    case 'AWS::Region': return context.region;
    case 'AWS::AccountId': return context.accountId;
    case 'AWS::Partition': return 'aws';
    case 'AWS::URLSuffix': return 'amazonaws.com';
    case 'AWS::StackName': return context.stackName;
    case 'AWS::StackId': return context.stackId;
    default: return undefined;
  }
}

function ref(name: string, context: ResolveContext): string {
  const value = pseudoParameter(name, context) ?? context.refs[name];
  if (value === undefined) {
    throw new Error(`Ref ${name}: not provisioned`);
  }
  return value;
}

function getAtt(logicalId: string, attribute: string, context: ResolveContext): string {
  const value = context.attributes[logicalId]?.[attribute];
  if (value === undefined) {
    throw new Error(`Fn::GetAtt ${logicalId}.${attribute}: not provisioned`);
  }
  return value;
}

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split; anything else is an error in the test setup. */
export function resolve(value: unknown, context: ResolveContext): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolve(item, context));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
    return resolveIntrinsic(entries[0][0], entries[0][1], context);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolve(item, context)]));
}

function resolveIntrinsic(name: string, argument: unknown, context: ResolveContext): unknown {
  switch (name) {
    case 'Ref':
      return ref(argument as string, context);
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = argument as [string, string];
      return getAtt(logicalId, attribute, context);
    }
    case 'Fn::Join': {
      const [separator, parts] = argument as [string, unknown[]];
      return parts.map((part) => String(resolve(part, context))).join(separator);
    }
    case 'Fn::Sub':
      return (argument as string).replace(/\$\{([^}]+)\}/g, (_match, expression: string) => {
        const [logicalId, attribute] = expression.split('.');
        return attribute === undefined ? ref(logicalId, context) : getAtt(logicalId, attribute, context);
      });
    case 'Fn::Select': {
      // The list may hold Ref and Fn::GetAtt; all of it is resolved, as CloudFormation needs every
      // reference in it to exist (which is what orders a consumer after the key).
      const [index, list] = argument as [unknown, unknown];
      const items = resolve(list, context);
      const position = Number(resolve(index, context));
      if (!Array.isArray(items) || !Number.isInteger(position) || position < 0 || position >= items.length) {
        throw new Error(`Fn::Select ${String(position)}: not an index of ${JSON.stringify(items)}`);
      }
      return items[position];
    }
    case 'Fn::Split': {
      const [separator, source] = argument as [string, unknown];
      return String(resolve(source, context)).split(separator);
    }
    default:
      throw new Error(`${name} is not supported by the test resolver`);
  }
}

/** CloudFormation hands custom resources every scalar property as a string. */
export function stringifyScalars(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(stringifyScalars);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, stringifyScalars(item)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

export function resourcesOfType(template: Template, type: string): string[] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type).map(([logicalId]) => logicalId);
}
