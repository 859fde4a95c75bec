/**
 * CloudFormation's order: a resource waits for the resources it references (`Ref`, `Fn::GetAtt`,
 * `Fn::Sub`) or names in `DependsOn`; it is created and updated after them and deleted before them.
 * Resources that do not depend on each other run at the same time ("AWS CloudFormation creates,
 * updates and deletes resources in parallel where it can": DependsOn attribute,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-dependson.html;
 * "Resource B is updated before resource A": awsdocs/aws-cloudformation-user-guide#709).
 */
import type { Template, TemplateResource } from './template';

/** The logical ids of the template's resources that this one depends on. */
export function dependenciesOf(resource: TemplateResource, template: Template): string[] {
  const found = new Set<string>();
  collectReferences(resource.Properties ?? {}, found);
  const dependsOn = (resource as { DependsOn?: string | string[] }).DependsOn;
  for (const logicalId of dependsOn === undefined ? [] : [dependsOn].flat()) {
    found.add(logicalId);
  }
  return [...found].filter((logicalId) => template.Resources[logicalId] !== undefined);
}

/** Logical ids (and pseudo parameters) a value names with `Ref`, `Fn::GetAtt` or `Fn::Sub`, anywhere inside it. */
export function referencedIds(value: unknown): Set<string> {
  const found = new Set<string>();
  collectReferences(value, found);
  return found;
}

function collectReferences(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    value.forEach((item) => collectReferences(item, found));
    return;
  }
  if (value === null || typeof value !== 'object') {
    return;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Ref' && typeof item === 'string') {
      found.add(item);
    } else if (key === 'Fn::GetAtt') {
      found.add(Array.isArray(item) ? String(item[0]) : String(item).split('.')[0]);
    } else if (key === 'Fn::Sub') {
      const [text, variables] = Array.isArray(item) ? item as [string, Record<string, unknown>] : [item as string, {}];
      // ${Name} and ${Name.Attribute}; ${!Literal} is no reference, nor a name the variable map defines.
      for (const match of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const name = match[1].split('.')[0];
        if (!(name in variables)) {
          found.add(name);
        }
      }
      collectReferences(variables, found);
    } else {
      collectReferences(item, found);
    }
  }
}

/** Every resource's dependencies among the template's resources. */
export function dependencyGraph(template: Template): Map<string, string[]> {
  return new Map(Object.entries(template.Resources).map(([logicalId, resource]) => [logicalId, dependenciesOf(resource, template)]));
}

/** The graph with every edge turned around: for deletes, a resource waits for those that depend on it. */
export function reversed(graph: Map<string, string[]>): Map<string, string[]> {
  const result = new Map<string, string[]>([...graph.keys()].map((logicalId) => [logicalId, []]));
  for (const [logicalId, dependencies] of graph) {
    for (const dependency of dependencies) {
      result.get(dependency)?.push(logicalId);
    }
  }
  return result;
}

export interface OrderOptions {
  /**
   * 'parallel' (CloudFormation's way, the default): every resource starts as soon as what it waits
   * for is done. 'serial': one at a time, in a valid order.
   */
  readonly concurrency?: 'parallel' | 'serial';
  /**
   * Resources that start the moment what they wait for is done, while every other resource that is
   * ready waits until they finish: a valid order chosen against the stack, so that a resource that
   * only happens to run late under 'parallel' runs as early as its dependencies allow.
   */
  readonly eager?: readonly string[];
  /**
   * Resources that start only once every other resource is done, except those that wait for them: a
   * valid order that favours the stack (its consumers last).
   */
  readonly late?: readonly string[];
  /** Keep going after a failure with what does not wait for the failed resource (stack deletes). Default: stop starting. */
  readonly continueAfterFailure?: boolean;
}

/** The ids that wait for one of `roots`, directly or through others. */
function dependentsOf(roots: ReadonlySet<string>, ids: readonly string[], waitsFor: Map<string, string[]>): Set<string> {
  const result = new Set<string>();
  let grew = roots.size > 0;
  while (grew) {
    grew = false;
    for (const logicalId of ids) {
      if (!result.has(logicalId) && (waitsFor.get(logicalId) ?? []).some((other) => roots.has(other) || result.has(other))) {
        result.add(logicalId);
        grew = true;
      }
    }
  }
  return result;
}

/**
 * Runs `run` for each of `ids` in the order of `waitsFor` (edges to ids outside `ids` are ignored).
 * `run` resolves true on success. Without continueAfterFailure, a failure starts nothing new and the
 * runs in flight finish, as CloudFormation lets operations in progress complete before it rolls back.
 * Returns the ids that failed and those never started.
 */
export async function runInOrder(
  ids: readonly string[],
  waitsFor: Map<string, string[]>,
  run: (logicalId: string) => Promise<boolean>,
  options: OrderOptions = {},
): Promise<{ failed: string[]; notStarted: string[] }> {
  const pending = new Set(ids);
  const done = new Set<string>();
  const failed: string[] = [];
  const running = new Map<string, Promise<void>>();
  // A run that throws is a bug of the engine, not a resource failure: rethrown once the others finish.
  const errors: unknown[] = [];
  const eager = new Set(options.eager ?? []);
  const late = new Set(options.late ?? []);
  const afterLate = dependentsOf(late, ids, waitsFor);
  const othersLeft = () => [...pending, ...running.keys()].some((logicalId) => !late.has(logicalId) && !afterLate.has(logicalId));
  const blockedBy = (logicalId: string) => (waitsFor.get(logicalId) ?? []).filter((other) => pending.has(other) || running.has(other) || failed.includes(other));
  for (;;) {
    if (failed.length === 0 || options.continueAfterFailure) {
      const ready = [...pending].filter((logicalId) => blockedBy(logicalId).length === 0 && (!late.has(logicalId) || !othersLeft()));
      const eagerReady = ready.filter((logicalId) => eager.has(logicalId));
      const eagerRunning = [...running.keys()].some((logicalId) => eager.has(logicalId));
      let toStart = eagerReady.length > 0 ? eagerReady : eagerRunning ? [] : ready;
      if (options.concurrency === 'serial') {
        toStart = running.size === 0 ? toStart.slice(0, 1) : [];
      }
      for (const logicalId of toStart) {
        pending.delete(logicalId);
        running.set(logicalId, run(logicalId).then((ok) => {
          running.delete(logicalId);
          if (ok) {
            done.add(logicalId);
          } else {
            failed.push(logicalId);
          }
        }, (error: unknown) => {
          running.delete(logicalId);
          failed.push(logicalId);
          errors.push(error);
        }));
      }
    }
    if (running.size === 0) {
      break;
    }
    await Promise.race(running.values());
  }
  if (errors.length > 0) {
    throw errors[0];
  }
  const notStarted = [...pending];
  if (failed.length === 0 && notStarted.length > 0) {
    throw new Error(`circular dependency between resources ${notStarted.join(', ')}`);
  }
  return { failed, notStarted };
}
