/**
 * The order CloudFormation creates and updates a template's resources in: a resource waits for every
 * resource its properties name with `Ref`, `Fn::GetAtt` or `Fn::Sub`, and for those in its
 * `DependsOn` (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html:
 * "resources that include a Ref or Fn::GetAtt ... depend on the referenced resource"). Tests ask
 * "does this consumer come after that resource", not "does this string appear".
 */
import { referencedIds } from '../../local/cfn-order';

export interface TemplateJson {
  readonly Resources: Record<string, { readonly DependsOn?: string | string[]; readonly Properties?: unknown }>;
  readonly Outputs?: Record<string, { readonly Value: unknown }>;
  readonly Parameters?: Record<string, unknown>;
}

/** Logical ids named by `Ref`, `Fn::GetAtt` and `Fn::Sub` anywhere in a value: the local CloudFormation's own rule. */
export { referencedIds };

/** The resources a resource waits for directly: those its properties reference, and its `DependsOn`. */
export function directDependencies(template: TemplateJson, logicalId: string): Set<string> {
  const resource = template.Resources[logicalId];
  if (!resource) {
    throw new Error(`no resource ${logicalId} in the template`);
  }
  const dependsOn = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
  return new Set([...referencedIds(resource.Properties), ...dependsOn].filter((id) => id in template.Resources));
}

/**
 * Every resource that CloudFormation must have created (or updated) before `start`: a resource's
 * logical id, or any template value (an output's `Value`), followed over references and `DependsOn`.
 */
export function dependencyClosure(template: TemplateJson, start: string | { readonly value: unknown }): Set<string> {
  const first = typeof start === 'string'
    ? directDependencies(template, start)
    : new Set([...referencedIds(start.value)].filter((id) => id in template.Resources));
  const closure = new Set<string>();
  const pending = [...first];
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (!closure.has(id)) {
      closure.add(id);
      pending.push(...directDependencies(template, id));
    }
  }
  return closure;
}

/** Resources that wait for themselves: CloudFormation rejects such a template ("Circular dependency between resources"). */
export function resourcesInCycles(template: TemplateJson): string[] {
  return Object.keys(template.Resources).filter((id) => dependencyClosure(template, id).has(id));
}
