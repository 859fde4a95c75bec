/**
 * Deletes in CloudFormation's order, and the rollback of a failed deployment.
 *
 * Rollback of an update (UPDATE_ROLLBACK_IN_PROGRESS): the stack returns to its previous template,
 * updated in that template's dependency order (a rollback is an update back to it):
 * - a resource updated in place, or whose update failed or never answered, is updated back. A custom
 *   resource gets another Update: ResourceProperties = the old properties, OldResourceProperties = the
 *   ones of the attempt, PhysicalResourceId = the id CloudFormation kept, which after a failed Update
 *   through the Provider framework is the old one (aws/aws-cdk#17040). IAM policies get their old
 *   document back (the policy hook is called again).
 * - a resource replaced in this deployment gets its old physical resource back in the stack, without
 *   a call; the replacement is deleted afterwards.
 * A failed step ends the rollback: UPDATE_ROLLBACK_FAILED, nothing is cleaned up (what the update
 * created stays until continue-update-rollback).
 * Then UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: "the stack has been rolled back to its previous
 * working state and is usable, but CloudFormation is still deleting any new resources it created
 * during the stack update" (stack status codes,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html):
 * the resources created and the replacements (a custom resource's: a Delete of the NEW id with the new
 * properties), dependents first, under the restored policies. As in the update's cleanup, a Delete
 * that fails is recorded (DELETE_FAILED) and the stack still ends UPDATE_ROLLBACK_COMPLETE.
 *
 * Rollback of a create (ROLLBACK_IN_PROGRESS): every resource created is deleted, and every failed
 * custom resource that answered an id (the Provider framework's CREATE_FAILED marker); ROLLBACK_COMPLETE,
 * or ROLLBACK_FAILED when a Delete fails.
 */
import type { LocalCloudFormation } from './cloudformation';
import { OrderOptions, dependenciesOf, dependencyGraph, runInOrder } from './cfn-order';
import { ResourceFailure, ResourceState, isCustomResource, isIamResource } from './cfn-resources';
import type { DeployOptions } from './cloudformation';
import type { Template } from './template';

/** What one deployment did, for its cleanup or its rollback. */
export interface Deployment {
  readonly template: Template;
  /** The template the stack held before (none for the first deployment). */
  readonly previous?: Template;
  readonly options: DeployOptions;
  /** The states before the deployment. */
  readonly before: Map<string, ResourceState>;
  readonly created: Set<string>;
  /** Replaced resources: their old state (the stack holds the new one). */
  readonly replaced: Map<string, ResourceState>;
  /** Resources updated in place, or whose update failed or was lost: the properties of the attempt. */
  readonly updated: Map<string, Record<string, unknown>>;
  /** Custom resources whose Create failed and answered a physical id. */
  readonly failedCreates: ResourceState[];
  /** The stack's reason, set by the first failure. */
  failure?: string;
}

interface DeleteFlags {
  /** Deleted as replaced (UpdateReplacePolicy applies), not removed (DeletionPolicy). */
  readonly replaced?: ReadonlySet<string>;
  /** Take what was deleted out of the stack's states. */
  readonly removeFromStack?: boolean;
  readonly failures?: Readonly<Record<string, string>>;
  /**
   * A failed Delete keeps what the failed resource depends on (stack deletes). Otherwise (cleanups)
   * the others still go: CloudFormation ignores a failed cleanup, so the secret of an old key whose
   * Delete failed is deleted all the same.
   */
  readonly keepDependencies?: boolean;
}

/** For each item, the items that depend on it, directly or through resources that are no items. */
function dependents(items: ResourceState[]): Map<string, string[]> {
  const ids = new Set(items.map((item) => item.logicalId));
  const waits = new Map<string, string[]>(items.map((item) => [item.logicalId, []]));
  for (const item of items) {
    const seen = new Set<string>();
    const queue = dependenciesOf(item.resource, item.template);
    while (queue.length > 0) {
      const logicalId = queue.pop()!;
      const resource = item.template.Resources[logicalId];
      if (seen.has(logicalId) || !resource) {
        continue;
      }
      seen.add(logicalId);
      if (ids.has(logicalId)) {
        waits.get(logicalId)!.push(item.logicalId);
      }
      queue.push(...dependenciesOf(resource, item.template));
    }
  }
  return waits;
}

/** Deletes the items, each after the items that depend on it; DeletionPolicy/UpdateReplacePolicy Retain skips one. */
export async function deleteInOrder(engine: LocalCloudFormation, items: ResourceState[], options: OrderOptions, flags: DeleteFlags = {}): Promise<{ failed: string[] }> {
  const byId = new Map(items.map((item) => [item.logicalId, item]));
  const gone = new Set<ResourceState>();
  const failed: string[] = [];
  const remove = async (logicalId: string): Promise<boolean> => {
    const state = byId.get(logicalId)!;
    const type = state.resource.Type;
    const policy = (state.resource as { DeletionPolicy?: string; UpdateReplacePolicy?: string })[flags.replaced?.has(logicalId) ? 'UpdateReplacePolicy' : 'DeletionPolicy'];
    if (policy === 'Retain') {
      engine.log.resource(logicalId, type, 'DELETE_SKIPPED', { physicalId: state.physicalId });
      return true;
    }
    engine.log.resource(logicalId, type, 'DELETE_IN_PROGRESS', { physicalId: state.physicalId });
    try {
      if (flags.failures?.[logicalId] !== undefined) {
        throw new ResourceFailure(flags.failures[logicalId], state.physicalId);
      }
      if (isCustomResource(state.resource)) {
        await engine.provisioner.sendCustom({ requestType: 'Delete', logicalId, template: state.template, state, properties: state.properties });
      } else {
        engine.provisioner.deleteNative(state);
      }
    } catch (error) {
      if (!(error instanceof ResourceFailure)) {
        throw error;
      }
      engine.log.resource(logicalId, type, 'DELETE_FAILED', { physicalId: state.physicalId, reason: error.message });
      failed.push(logicalId);
      return !flags.keepDependencies;
    }
    gone.add(state);
    if (flags.removeFromStack) {
      engine.states.delete(logicalId);
    }
    if (isIamResource(state.resource)) {
      await engine.provisioner.installPolicies([...engine.states.values()].filter((live) => !gone.has(live)));
    }
    engine.log.resource(logicalId, type, 'DELETE_COMPLETE', { physicalId: state.physicalId });
    return true;
  };
  // Only the concurrency carries over: eager and late name resources of a deployment's order, not of its deletes.
  await runInOrder([...byId.keys()], dependents(items), remove, { concurrency: options.concurrency, continueAfterFailure: true });
  return { failed };
}

export async function rollBackUpdate(engine: LocalCloudFormation, deployment: Deployment): Promise<void> {
  engine.log.stack('UPDATE_ROLLBACK_IN_PROGRESS', deployment.failure);
  const replacements: ResourceState[] = [];
  const failures = deployment.options.rollbackFailures ?? {};
  // Resources the update did not change take back their definition of the previous template too
  // (DeletionPolicy, UpdateReplacePolicy, DependsOn, the template their handler is found in): the
  // rollback returns the stack to that whole template.
  for (const [logicalId, old] of deployment.before) {
    if (!deployment.updated.has(logicalId) && !deployment.replaced.has(logicalId)) {
      engine.states.set(logicalId, old);
    }
  }
  const restore = async (logicalId: string): Promise<boolean> => {
    const old = deployment.before.get(logicalId)!;
    const current = engine.states.get(logicalId)!;
    if (deployment.replaced.has(logicalId)) {
      replacements.push(current);
      engine.states.set(logicalId, old);
    } else {
      engine.log.resource(logicalId, old.resource.Type, 'UPDATE_IN_PROGRESS', { physicalId: current.physicalId });
      try {
        if (failures[logicalId] !== undefined) {
          throw new ResourceFailure(failures[logicalId], current.physicalId);
        }
        if (isCustomResource(old.resource)) {
          const response = await engine.provisioner.sendCustom({
            requestType: 'Update', logicalId, template: old.template, state: current,
            properties: old.properties, oldProperties: deployment.updated.get(logicalId),
          });
          engine.states.set(logicalId, { ...old, physicalId: response.PhysicalResourceId });
        } else {
          engine.states.set(logicalId, old);
          engine.provisioner.updateNative(old.resource, old.properties);
        }
      } catch (error) {
        if (!(error instanceof ResourceFailure)) {
          throw error;
        }
        engine.log.resource(logicalId, old.resource.Type, 'UPDATE_FAILED', { physicalId: current.physicalId, reason: error.message });
        return false;
      }
    }
    if (isIamResource(old.resource)) {
      await engine.provisioner.installPolicies(engine.states.values());
    }
    engine.log.resource(logicalId, old.resource.Type, 'UPDATE_COMPLETE', { physicalId: engine.states.get(logicalId)!.physicalId });
    return true;
  };
  const toRestore = [...new Set([...deployment.updated.keys(), ...deployment.replaced.keys()])];
  const { failed } = await runInOrder(toRestore, dependencyGraph(deployment.previous!), restore, deployment.options);
  if (failed.length > 0) {
    engine.log.stack('UPDATE_ROLLBACK_FAILED', `The following resource(s) failed to update: [${failed.join(', ')}].`);
    return;
  }
  engine.log.stack('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
  const created = [...deployment.created].map((logicalId) => engine.states.get(logicalId)!);
  await deleteInOrder(engine, [...created, ...replacements, ...deployment.failedCreates], deployment.options, { failures });
  deployment.created.forEach((logicalId) => engine.states.delete(logicalId));
  engine.log.stack('UPDATE_ROLLBACK_COMPLETE');
}

export async function rollBackCreate(engine: LocalCloudFormation, deployment: Deployment): Promise<void> {
  engine.log.stack('ROLLBACK_IN_PROGRESS', deployment.failure);
  const created = [...deployment.created].map((logicalId) => engine.states.get(logicalId)!);
  const { failed } = await deleteInOrder(engine, [...created, ...deployment.failedCreates], deployment.options, {
    removeFromStack: true, keepDependencies: true, failures: deployment.options.rollbackFailures,
  });
  engine.log.stack(failed.length > 0 ? 'ROLLBACK_FAILED' : 'ROLLBACK_COMPLETE');
}
