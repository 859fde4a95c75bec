/**
 * A local CloudFormation for one stack: deploy(template) creates it, or updates it from the template
 * it holds, in CloudFormation's order and with its rollback; destroy() deletes it. Custom resources go
 * through a StackDriver (the real Provider framework and bundled handler); the rest lives in the emulator.
 *
 * The sequence, as CloudFormation documents it:
 * - Create: every resource after the resources it references or names in DependsOn; independent ones
 *   at once (local/cfn-order.ts). A failure deletes what was created (ROLLBACK_COMPLETE), the Provider
 *   framework's CREATE_FAILED marker included: CloudFormation sends Delete to whatever id a failed
 *   Create answered.
 * - Update: only resources whose properties change (after the resources they reference, which may have
 *   changed physical id) are updated; a replaced resource gets its new physical resource first ("creates
 *   the replacement resource first, changes references from other dependent resources to point to the
 *   replacement resource, and then deletes the old resource":
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html).
 *   A custom resource is replaced when its Update answers a new physical id
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html).
 *   Once every update succeeded, UPDATE_COMPLETE_CLEANUP_IN_PROGRESS deletes the old physical resources
 *   (with their OLD properties, under the policies now in force) and the removed resources, dependents
 *   first; a failed cleanup Delete is recorded and the stack still ends UPDATE_COMPLETE.
 * - Rollback of an update (rollback.ts): the stack goes back to its previous template.
 */
import type { AwsEmulator } from './emulator';
import { ResolvedReference, SecretReadError, readTaskSecrets, resolveDynamicReferences } from './dynamic-references';
import { OrderOptions, dependencyGraph, runInOrder } from './cfn-order';
import { PolicyInstaller, ResourceFailure, ResourceProvisioner, ResourceState, isCustomResource, isIamResource, replacesPhysicalResource } from './cfn-resources';
import { Deployment, deleteInOrder, rollBackCreate, rollBackUpdate } from './cfn-rollback';
import { StackEventLog, StackStatus } from './cfn-stack-events';
import { StackDriver, SynthesizedStack, StackDriverOptions } from './stack-driver';
import { ResolveContext, Template, TemplateResource, resolve } from './template';

export type { StackEvent, StackStatus } from './cfn-stack-events';
export type { PolicyInstaller, ResourceState } from './cfn-resources';

export interface DeployOptions extends OrderOptions {
  /** Test faults: these resources fail their create or update in this deployment, with this reason. */
  readonly failures?: Readonly<Record<string, string>>;
  /** These custom resources' answers to their create or update are lost (the handler ran; CloudFormation times out). */
  readonly lostResponses?: readonly string[];
  /** Steps of the rollback that fail: the rollback Update or Delete of these resources, with this reason. */
  readonly rollbackFailures?: Readonly<Record<string, string>>;
  /** Deletes of the cleanup phase that fail, with this reason. */
  readonly cleanupFailures?: Readonly<Record<string, string>>;
  /** Called when the rollback starts (e.g. a transient fault is over). */
  readonly onRollback?: () => void;
}

/** What a consumer read, and when. */
export interface SecretRead {
  readonly logicalId: string;
  readonly action: 'Create' | 'Update' | 'TaskStart';
  readonly stackStatus: StackStatus | undefined;
  readonly references: ResolvedReference[];
}

const REPLACEMENT_REASON = 'Requested update requires the creation of a new physical resource; hence creating one.';
const FINAL_FAILED = new Set<StackStatus | undefined>(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'UPDATE_ROLLBACK_FAILED', 'DELETE_COMPLETE', 'DELETE_FAILED']);

export class LocalCloudFormation {
  /** A driver for the stack that leaves provisioning to the engine, and the engine on top of it. */
  public static forStack(emulator: AwsEmulator, stack: SynthesizedStack, options: StackDriverOptions = {}): LocalCloudFormation {
    return new LocalCloudFormation(emulator, new StackDriver(emulator, stack, { ...options, provisionTemplate: false }));
  }

  public readonly log: StackEventLog;
  /** Every read of a secret by a resource of the stack (dynamic references; ECS task starts), in order. */
  public readonly secretReads: SecretRead[] = [];
  /** The resources as deployed now, by logical id. */
  public readonly states = new Map<string, ResourceState>();
  private deployed: Template | undefined;
  private readonly resources: ResourceProvisioner;

  /** `driver` must have been made with `provisionTemplate: false`: the engine provisions in order. */
  constructor(private readonly emulator: AwsEmulator, public readonly driver: StackDriver & PolicyInstaller) {
    this.log = new StackEventLog(driver.stack.stackName);
    this.resources = new ResourceProvisioner(emulator, driver, driver.stack.stackName);
  }

  public get status(): StackStatus | undefined {
    return this.log.status;
  }

  public get template(): Template | undefined {
    return this.deployed;
  }

  public physicalId(logicalId: string): string {
    const state = this.states.get(logicalId);
    if (!state) {
      throw new Error(`no resource ${logicalId} in stack ${this.driver.stack.stackName}`);
    }
    return state.physicalId;
  }

  /** The dynamic references the resource read when it was created or last updated. */
  public resolvedReferences(logicalId: string): ResolvedReference[] {
    return this.states.get(logicalId)?.references ?? [];
  }

  /** Creates the stack, or updates it to `template`; resolves to the status it ends in. */
  public async deploy(template: Template = this.driver.stack.template, options: DeployOptions = {}): Promise<StackStatus> {
    if (FINAL_FAILED.has(this.status)) {
      throw new Error(`Stack ${this.driver.stack.stackName} is in ${this.status} state and can not be updated.`);
    }
    const deployment: Deployment = {
      template, previous: this.deployed, options, before: new Map(this.states),
      created: new Set(), replaced: new Map(), updated: new Map(), failedCreates: [],
    };
    this.log.stack(deployment.previous ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS');
    await runInOrder(Object.keys(template.Resources), dependencyGraph(template), (logicalId) => this.deployResource(deployment, logicalId), options);
    if (deployment.failure !== undefined) {
      options.onRollback?.();
      await (deployment.previous ? rollBackUpdate(this, deployment) : rollBackCreate(this, deployment));
      return this.status!;
    }
    if (!deployment.previous) {
      this.deployed = template;
      this.log.stack('CREATE_COMPLETE');
      return this.status!;
    }
    this.log.stack('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    const removed = [...deployment.before.values()].filter((state) => template.Resources[state.logicalId] === undefined);
    await deleteInOrder(this, [...deployment.replaced.values(), ...removed], options, {
      replaced: new Set(deployment.replaced.keys()), failures: options.cleanupFailures,
    });
    removed.forEach((state) => this.states.delete(state.logicalId));
    this.deployed = template;
    this.log.stack('UPDATE_COMPLETE');
    return this.status!;
  }

  /** Deletes every resource, dependents first; one that fails keeps what it depends on (DELETE_FAILED). */
  public async destroy(): Promise<StackStatus> {
    this.log.stack('DELETE_IN_PROGRESS');
    const { failed } = await deleteInOrder(this, [...this.states.values()], {}, { removeFromStack: true, keepDependencies: true });
    this.log.stack(failed.length > 0 ? 'DELETE_FAILED' : 'DELETE_COMPLETE');
    return this.status!;
  }

  /**
   * Starts a task of an ECS task definition of the stack: the agent reads each container's
   * Secrets[].ValueFrom now (not at deployment), or the start fails with ECS's reason.
   */
  public startTask(taskDefinitionId: string, startedBy = taskDefinitionId): Record<string, Record<string, string>> {
    const state = this.states.get(taskDefinitionId);
    if (state?.resource.Type !== 'AWS::ECS::TaskDefinition') {
      throw new Error(`${taskDefinitionId} is no AWS::ECS::TaskDefinition of the stack`);
    }
    const definitions = (state.properties.ContainerDefinitions ?? []) as Parameters<typeof readTaskSecrets>[0];
    const { environment, references } = readTaskSecrets(definitions, this.emulator);
    this.secretReads.push({ logicalId: startedBy, action: 'TaskStart', stackStatus: this.status, references });
    return environment;
  }

  /**
   * An ECS service starts its tasks when it is created or updated, and CloudFormation waits for it to
   * reach a steady state: a task that cannot read its secrets never lets it, and the resource fails.
   */
  private startServiceTasks(next: Pick<ResourceState, 'logicalId' | 'resource' | 'properties'>): void {
    if (next.resource.Type !== 'AWS::ECS::Service') {
      return;
    }
    const taskDefinition = [...this.states.values()].find((state) => state.physicalId === next.properties.TaskDefinition);
    if (taskDefinition) {
      try {
        this.startTask(taskDefinition.logicalId, next.logicalId);
      } catch (error) {
        throw new ResourceFailure(`ECS service ${next.logicalId} did not stabilize: a task failed to start: ${(error as Error).message}`);
      }
    }
  }

  /** What Ref and Fn::GetAtt return now: the physical ids and attributes of the resources as deployed. */
  public context(): ResolveContext {
    const refs: Record<string, string> = {};
    const attributes: Record<string, Record<string, string>> = {};
    for (const [logicalId, state] of this.states) {
      refs[logicalId] = state.physicalId;
      attributes[logicalId] = state.attributes;
    }
    const { emulator } = this;
    return { region: emulator.region, accountId: emulator.accountId, stackName: this.driver.stack.stackName, stackId: this.driver.stackId, refs, attributes };
  }

  /** @internal for cfn-rollback.ts */
  public get provisioner(): ResourceProvisioner {
    return this.resources;
  }

  private async deployResource(deployment: Deployment, logicalId: string): Promise<boolean> {
    const resource = deployment.template.Resources[logicalId];
    const old = this.states.get(logicalId);
    const templateProperties = resolve(resource.Properties ?? {}, this.context()) as Record<string, unknown>;
    if (old && old.resource.Type === resource.Type && JSON.stringify(old.templateProperties) === JSON.stringify(templateProperties)) {
      this.states.set(logicalId, { ...old, resource, template: deployment.template });
      return true;
    }
    const verb = old ? 'UPDATE' : 'CREATE';
    this.log.resource(logicalId, resource.Type, `${verb}_IN_PROGRESS`, { physicalId: old?.physicalId });
    try {
      const injected = deployment.options.failures?.[logicalId];
      if (injected !== undefined) {
        throw new ResourceFailure(injected, old?.physicalId);
      }
      const { value, references } = resolveDynamicReferences(templateProperties, this.emulator);
      this.secretReads.push({ logicalId, action: old ? 'Update' : 'Create', stackStatus: this.status, references });
      const next = { logicalId, resource, template: deployment.template, templateProperties, properties: value as Record<string, unknown>, references };
      const state = old ? await this.update(deployment, old, next) : await this.create(deployment, next);
      this.log.resource(logicalId, resource.Type, `${verb}_COMPLETE`, { physicalId: state.physicalId });
      return true;
    } catch (error) {
      if (!(error instanceof ResourceFailure || error instanceof SecretReadError)) {
        throw error;
      }
      this.log.resource(logicalId, resource.Type, `${verb}_FAILED`, { physicalId: this.states.get(logicalId)?.physicalId, reason: error.message });
      deployment.failure ??= `The following resource(s) failed to ${verb.toLowerCase()}: [${logicalId}].`;
      return false;
    }
  }

  private async create(deployment: Deployment, next: Omit<ResourceState, 'physicalId' | 'attributes'>): Promise<ResourceState> {
    if (isCustomResource(next.resource)) {
      const properties = this.resources.customProperties(next.properties);
      try {
        const response = await this.resources.sendCustom({ requestType: 'Create', ...next, properties, loseResponse: this.loses(deployment, next.logicalId) });
        return this.record(deployment, 'created', { ...next, properties, physicalId: response.PhysicalResourceId, attributes: response.Data ?? {} });
      } catch (error) {
        if (error instanceof ResourceFailure && error.physicalId !== undefined) {
          deployment.failedCreates.push({ ...next, properties, physicalId: error.physicalId, attributes: {} });
        }
        throw error;
      }
    }
    this.startServiceTasks(next);
    const { physicalId, attributes } = this.resources.createNative(next.logicalId, next.resource, next.properties);
    return this.record(deployment, 'created', { ...next, physicalId, attributes });
  }

  private async update(deployment: Deployment, old: ResourceState, next: Omit<ResourceState, 'physicalId' | 'attributes'>): Promise<ResourceState> {
    if (isCustomResource(next.resource)) {
      const properties = this.resources.customProperties(next.properties);
      try {
        const response = await this.resources.sendCustom({
          requestType: 'Update', ...next, state: old, properties, oldProperties: old.properties, loseResponse: this.loses(deployment, next.logicalId),
        });
        const state = { ...next, properties, physicalId: response.PhysicalResourceId, attributes: response.Data ?? {} };
        return this.record(deployment, state.physicalId === old.physicalId ? 'updated' : 'replaced', state, old);
      } catch (error) {
        if (error instanceof ResourceFailure) {
          // CloudFormation keeps the id the failed answer named (the Provider framework: the event's own).
          deployment.updated.set(next.logicalId, properties);
          this.states.set(next.logicalId, { ...old, physicalId: error.physicalId ?? old.physicalId });
        }
        throw error;
      }
    }
    if (replacesPhysicalResource(old.resource, next.resource)) {
      this.log.resource(next.logicalId, next.resource.Type, 'UPDATE_IN_PROGRESS', { physicalId: old.physicalId, reason: REPLACEMENT_REASON });
      const { physicalId, attributes } = this.resources.createNative(next.logicalId, next.resource, next.properties);
      return this.record(deployment, 'replaced', { ...next, physicalId, attributes }, old);
    }
    this.startServiceTasks(next);
    this.resources.updateNative(next.resource, next.properties);
    return this.record(deployment, 'updated', { ...next, physicalId: old.physicalId, attributes: old.attributes }, old);
  }

  /** Puts the resource's new state in force (IAM: installs the policies now in force) and remembers what this deployment did. */
  private async record(deployment: Deployment, change: 'created' | 'updated' | 'replaced', state: ResourceState, old?: ResourceState): Promise<ResourceState> {
    this.states.set(state.logicalId, state);
    if (change === 'created') {
      deployment.created.add(state.logicalId);
    } else if (change === 'replaced') {
      deployment.replaced.set(state.logicalId, old!);
    } else {
      deployment.updated.set(state.logicalId, state.properties);
    }
    if (isIamResource(state.resource)) {
      await this.resources.installPolicies(this.states.values());
    }
    return state;
  }

  private loses(deployment: Deployment, logicalId: string): boolean {
    return deployment.options.lostResponses?.includes(logicalId) ?? false;
  }
}

export type { TemplateResource };
