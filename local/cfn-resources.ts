/**
 * How the local CloudFormation creates, updates and deletes each kind of resource: custom resources
 * through the StackDriver's events (the real Provider framework and handler), buckets and secrets in
 * the emulator, IAM policies through the driver's policy hook, anything else as a record.
 */
import { randomUUID } from 'crypto';
import type { AwsEmulator } from './emulator';
import type { CfnResponse, RequestType, StackDriver } from './stack-driver';
import type { ResolvedReference } from './dynamic-references';
import { Template, TemplateResource, stringifyScalars } from './template';

/** A resource as deployed: its definition, its physical resource, and what it was given. */
export interface ResourceState {
  readonly logicalId: string;
  readonly resource: TemplateResource;
  /** The template it was created or last updated from (where a custom resource's handler is found). */
  readonly template: Template;
  readonly physicalId: string;
  readonly attributes: Record<string, string>;
  /** Properties with intrinsic functions resolved and dynamic references not: a later change of them is an update. */
  readonly templateProperties: Record<string, unknown>;
  /** Properties as the resource received them (dynamic references resolved; custom resources: scalars as strings). */
  readonly properties: Record<string, unknown>;
  /** The dynamic references read when it was created or last updated. */
  readonly references: ResolvedReference[];
}

/** A resource operation that failed; `physicalId` is the id CloudFormation holds for it afterwards. */
export class ResourceFailure extends Error {
  constructor(reason: string, public readonly physicalId?: string) {
    super(reason);
  }
}

/** The hook the IAM evaluation of the StackDriver offers: installs the policies in force. */
export interface PolicyInstaller {
  /**
   * Called after each create, update, delete or restore of an IAM resource, with the definition of
   * every resource in force at that moment and, by logical id, the properties CloudFormation resolved
   * for it then.
   */
  applyPolicies?(template: Template, resolvedProperties: Record<string, Record<string, unknown>>): void | Promise<void>;
}

const IAM_TYPES = new Set(['AWS::IAM::Policy', 'AWS::IAM::Role', 'AWS::IAM::ManagedPolicy']);

export function isCustomResource(resource: TemplateResource): boolean {
  return resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource';
}

export function isIamResource(resource: TemplateResource): boolean {
  return IAM_TYPES.has(resource.Type);
}

/**
 * The properties whose change makes CloudFormation replace the physical resource: BucketName of
 * AWS::Lightsail::Bucket, Name of AWS::SecretsManager::Secret, and every property of
 * AWS::ECS::TaskDefinition (a new revision) are "Update requires: Replacement" in their resource type
 * references. Anything else is updated in place.
 */
export function replacesPhysicalResource(before: TemplateResource, after: TemplateResource): boolean {
  const changed = (property: string) => JSON.stringify(before.Properties?.[property]) !== JSON.stringify(after.Properties?.[property]);
  switch (after.Type) {
    case 'AWS::Lightsail::Bucket': return changed('BucketName');
    case 'AWS::SecretsManager::Secret': return changed('Name');
    case 'AWS::ECS::TaskDefinition': return true;
    default: return false;
  }
}

/** CloudFormation's reason when a custom resource never answers within its ServiceTimeout. */
export function noResponseReason(requestId: string): string {
  return `CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [${requestId}]. ` +
    'If you are using the Python cfn-response module, you may need to update your Lambda function code so that CloudFormation can attach the updated version.';
}

export interface CustomEvent {
  readonly requestType: RequestType;
  readonly state?: ResourceState;
  readonly logicalId: string;
  readonly template: Template;
  readonly properties: Record<string, unknown>;
  readonly oldProperties?: Record<string, unknown>;
  /** The answer is lost: CloudFormation waits out the ServiceTimeout and fails the resource. */
  readonly loseResponse?: boolean;
}

export class ResourceProvisioner {
  constructor(
    private readonly emulator: AwsEmulator,
    private readonly driver: StackDriver & PolicyInstaller,
    private readonly stackName: string,
  ) {}

  /** Creates the physical resource of a native (not custom) resource. */
  public createNative(logicalId: string, resource: TemplateResource, properties: Record<string, unknown>): { physicalId: string; attributes: Record<string, string> } {
    const provisioned = this.driver.provisionResource(logicalId, { ...resource, Properties: properties });
    if (provisioned) {
      return { physicalId: provisioned.ref, attributes: provisioned.attributes };
    }
    this.applyRotationSchedule(resource, properties);
    const suffix = randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase();
    const name = `${this.stackName}-${logicalId}-${suffix}`.slice(0, 64);
    const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'local';
    if (resource.Type === 'AWS::IAM::Role') {
      return { physicalId: name, attributes: { Arn: `arn:aws:iam::${this.emulator.accountId}:role/${name}`, RoleId: `AROA${suffix}` } };
    }
    const arn = `arn:aws:${service}:${this.emulator.region}:${this.emulator.accountId}:${resource.Type.split('::')[2]?.toLowerCase()}/${name}`;
    return { physicalId: resource.Type.startsWith('AWS::IAM::') ? name : arn, attributes: { Arn: arn } };
  }

  /** An in-place update of a native resource: the emulator's part of it (a rotation schedule turns rotation on). */
  public updateNative(resource: TemplateResource, properties: Record<string, unknown>): void {
    this.applyRotationSchedule(resource, properties);
  }

  public deleteNative(state: ResourceState): void {
    this.driver.deprovisionResource(state.logicalId, { ...state.resource, Properties: state.properties });
    if (state.resource.Type === 'AWS::SecretsManager::RotationSchedule') {
      this.disableRotation(String(state.properties.SecretId));
    }
  }

  private applyRotationSchedule(resource: TemplateResource, properties: Record<string, unknown>): void {
    if (resource.Type !== 'AWS::SecretsManager::RotationSchedule') {
      return;
    }
    const rules = properties.RotationRules as { AutomaticallyAfterDays?: number } | undefined;
    this.emulator.enableRotation(String(properties.SecretId), {
      rotationLambdaArn: String(properties.RotationLambdaARN),
      ...(rules?.AutomaticallyAfterDays === undefined ? {} : { automaticallyAfterDays: Number(rules.AutomaticallyAfterDays) }),
    });
  }

  private disableRotation(secretId: string): void {
    try {
      this.emulator.disableRotation(secretId);
    } catch {
      // The secret went first (a replaced or removed secret): nothing left to turn off.
    }
  }

  /** Custom resources get every scalar property as a string. */
  public customProperties(properties: Record<string, unknown>): Record<string, unknown> {
    return stringifyScalars(properties) as Record<string, unknown>;
  }

  /**
   * Sends one event and returns the answer CloudFormation got: SUCCESS, or a ResourceFailure that
   * carries the physical id the answer named (the Provider framework answers a failed Update with the
   * event's own id, aws/aws-cdk#17040, and a failed Create with its CREATE_FAILED marker) or, for a lost
   * answer, the id CloudFormation already held.
   */
  public async sendCustom(event: CustomEvent): Promise<CfnResponse> {
    const requestId = randomUUID();
    const response = await this.driver.send(event.requestType, event.logicalId, event.template, {
      requestId,
      physicalResourceId: event.state?.physicalId,
      resourceProperties: event.properties,
      oldResourceProperties: event.oldProperties,
    });
    if (event.loseResponse) {
      throw new ResourceFailure(noResponseReason(requestId), event.state?.physicalId);
    }
    if (response.Status !== 'SUCCESS') {
      throw new ResourceFailure(response.Reason, response.PhysicalResourceId);
    }
    return response;
  }

  public async installPolicies(states: Iterable<ResourceState>): Promise<void> {
    const resources: Record<string, TemplateResource> = {};
    const resolved: Record<string, Record<string, unknown>> = {};
    for (const state of states) {
      resources[state.logicalId] = state.resource;
      resolved[state.logicalId] = state.properties;
    }
    await this.driver.applyPolicies?.({ Resources: resources }, resolved);
  }
}
