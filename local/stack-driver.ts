import { AsyncLocalStorage } from 'async_hooks';
import { randomUUID } from 'crypto';
import * as path from 'path';
import { format } from 'util';
import { RESOURCE_TYPE } from '../lib/contract';
import type { AwsEmulator } from './emulator';
import { LambdaFunctionSpec, invokeInChildProcess } from './lambda-runner';
import { cloudFormationTags, functionCredentials, installPolicies } from './stack-iam';
import { ResolveContext, Template, TemplateResource, resolve, resourcesOfType, stringifyScalars } from './template';

/** The body the Provider framework PUTs to CloudFormation's response URL. */
export interface CfnResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly LogicalResourceId: string;
  readonly RequestId: string;
  readonly Data?: Record<string, string>;
  readonly NoEcho?: boolean;
}

export interface SynthesizedStack {
  /** The cloud assembly folder (cdk.out). */
  readonly directory: string;
  readonly stackName: string;
  readonly template: Template;
}

export type RequestType = 'Create' | 'Update' | 'Delete';

interface FrameworkModules {
  readonly onEvent: (event: object) => Promise<void>;
  readonly outbound: {
    invokeFunction: (request: { FunctionName: string; Payload: string }) => Promise<object>;
    httpRequest: (options: object, body: string) => Promise<void>;
  };
}

export interface StackDriverOptions {
  /**
   * Run every function of the stack (the handler, the rotation function) with this timeout instead
   * of the template's: its context's remaining time counts down from it, and the run is killed past it.
   * Keeps tests of time-bounded behaviour (retry windows) short. Default: the template's Timeout.
   */
  readonly functionTimeoutSeconds?: number;
  /**
   * Where the functions send their Lightsail, Secrets Manager and S3 calls, when not straight to the
   * emulator: e.g. a proxy in front of it that adds latency. Default: the emulator's endpoint.
   */
  readonly endpoint?: string;
  /**
   * Provision the template's buckets, secrets and functions at construction and before each update.
   * false: the caller provisions them one at a time (provisionResource), in CloudFormation's order,
   * as local/cloudformation.ts does. Default true.
   */
  readonly provisionTemplate?: boolean;
}

/** What `Ref` and `Fn::GetAtt` return for a physical resource the driver provisioned. */
export interface ProvisionedResource {
  readonly ref: string;
  readonly attributes: Record<string, string>;
}

/** Options of send(); explicit properties replace the ones resolved from the template. */
export interface SendOptions {
  readonly requestId: string;
  readonly physicalResourceId?: string;
  readonly oldTemplate?: Template;
  readonly resourceProperties?: Record<string, unknown>;
  readonly oldResourceProperties?: Record<string, unknown>;
}

/** One event in flight through the framework: where its invocation, response and log lines go. */
interface EventInFlight {
  readonly driver: StackDriver;
  readonly handlerSpec: LambdaFunctionSpec;
  readonly responses: string[];
}

// CloudFormation sends independent events at once; the framework's module and console.log are shared,
// so each event's hooks find their own event through the async context they run in.
const inFlight = new AsyncLocalStorage<EventInFlight>();
let consoleUsers = 0;
let originalLog: typeof console.log = console.log;

function captureConsole(): void {
  if (consoleUsers++ === 0) {
    originalLog = console.log;
    console.log = (...args: unknown[]) => {
      const event = inFlight.getStore();
      if (event) {
        event.driver.logLines.push(format(...args));
      } else {
        originalLog(...args);
      }
    };
  }
}

function releaseConsole(): void {
  if (--consoleUsers === 0) {
    console.log = originalLog;
  }
}

/**
 * Plays CloudFormation for the access keys of one synthesized stack: provisions the stack's buckets
 * and secrets in the emulator, and sends Create / Update / Delete events through the real Provider
 * framework code of the assembly's asset, which invokes the real bundled handler in a child process.
 */
export class StackDriver {
  /** Every response body sent to CloudFormation, as sent. */
  public readonly responseBodies: string[] = [];
  /** Every line the framework and the handler printed. */
  public readonly logLines: string[] = [];
  /** Handler invocations so far. */
  public invocations = 0;

  /** Provisioned resources by physicalKey(). */
  private readonly physical: Record<string, ProvisionedResource> = {};
  /** The stack's ARN: what `AWS::StackId` returns, and the value of its resources' `aws:cloudformation:stack-id` tag. */
  public readonly stackId: string;

  constructor(private readonly emulator: AwsEmulator, public readonly stack: SynthesizedStack, private readonly options: StackDriverOptions = {}) {
    this.stackId = `arn:aws:cloudformation:${emulator.region}:${emulator.accountId}:stack/${stack.stackName}/${randomUUID()}`;
    if (options.provisionTemplate !== false) {
      this.provision(stack.template);
      this.applyPolicies(stack.template);
    }
  }

  /**
   * Deploys the identity policies of the template's roles, as CloudFormation updates them in place:
   * from now on, each function's requests are authorized against its role's policies in this
   * template (local/stack-iam.ts, local/emulator/iam.ts). create() and update() call it first with
   * the template they deploy (a role's policy is a dependency of the custom resource, so it is
   * updated before it); delete() does not (cleanup, and removed resources, run under the policies of
   * the latest template deployed). The whole-stack player (local/cloudformation.ts) provisions
   * resources itself and calls it whenever it creates, updates or restores an IAM resource.
   */
  public applyPolicies(template: Template): void {
    if (this.options.provisionTemplate !== false) {
      this.provision(template);
    }
    installPolicies(this.emulator, template, this.context(template));
  }

  public keyLogicalIds(template: Template = this.stack.template): string[] {
    return resourcesOfType(template, RESOURCE_TYPE);
  }

  /**
   * Creates in the emulator the buckets and secrets of a template that are not there yet. A bucket
   * or secret whose name changed is a new physical resource, as in CloudFormation.
   */
  public provision(template: Template): void {
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      this.provisionResource(logicalId, resource);
    }
  }

  /** provision() for one resource; its physical resource, or undefined for a type the driver does not make. */
  public provisionResource(logicalId: string, resource: TemplateResource): ProvisionedResource | undefined {
    const key = this.physicalKey(logicalId, resource);
    if (key === undefined || this.physical[key] !== undefined) {
      return key === undefined ? undefined : this.physical[key];
    }
    if (resource.Type === 'AWS::Lightsail::Bucket') {
      const bucket = this.emulator.createBucket(String(resource.Properties?.BucketName));
      this.physical[key] = { ref: bucket.name, attributes: { BucketArn: bucket.arn, Url: bucket.url } };
    } else if (resource.Type === 'AWS::SecretsManager::Secret') {
      const name = String(resource.Properties?.Name ?? `${logicalId}-${randomUUID().replace(/-/g, '').slice(0, 12)}`);
      const tags = cloudFormationTags(resource, logicalId, { ...this.context(this.stack.template), stackId: this.stackId });
      this.physical[key] = { ref: this.emulator.createSecret(name, tags).arn, attributes: {} };
    } else if (resource.Type === 'AWS::KMS::Key') {
      const keyId = randomUUID();
      this.physical[key] = { ref: keyId, attributes: { Arn: `arn:aws:kms:${this.emulator.region}:${this.emulator.accountId}:key/${keyId}` } };
    } else if (resource.Type === 'AWS::Logs::LogGroup') {
      const arn = `arn:aws:logs:${this.emulator.region}:${this.emulator.accountId}:log-group:${logicalId}:*`;
      this.physical[key] = { ref: logicalId, attributes: { Arn: arn } };
    } else if (resource.Type === 'AWS::IAM::Role') {
      this.physical[key] = { ref: logicalId, attributes: { Arn: `arn:aws:iam::${this.emulator.accountId}:role/${logicalId}` } };
    } else {
      const arn = `arn:aws:lambda:${this.emulator.region}:${this.emulator.accountId}:function:${logicalId}`;
      this.physical[key] = { ref: logicalId, attributes: { Arn: arn } };
    }
    return this.physical[key];
  }

  /** Deletes what provisionResource() made, as CloudFormation does: bucket with force, secret without recovery window. */
  public deprovisionResource(logicalId: string, resource: TemplateResource): void {
    const key = this.physicalKey(logicalId, resource) ?? '';
    const provisioned = this.physical[key];
    delete this.physical[key];
    if (provisioned && resource.Type === 'AWS::Lightsail::Bucket') {
      this.emulator.deleteBucket(provisioned.ref, { missingOk: true });
    } else if (provisioned && resource.Type === 'AWS::SecretsManager::Secret') {
      this.emulator.deleteSecret(provisioned.ref);
    }
  }

  /** Identifies a physical resource: its logical id plus the properties whose change replaces it. */
  private physicalKey(logicalId: string, resource: TemplateResource): string | undefined {
    switch (resource.Type) {
      case 'AWS::Lightsail::Bucket': return `${logicalId}|${String(resource.Properties?.BucketName)}`;
      case 'AWS::SecretsManager::Secret': return `${logicalId}|${String(resource.Properties?.Name ?? '')}`;
      case 'AWS::Lambda::Function':
      case 'AWS::KMS::Key':
      case 'AWS::Logs::LogGroup':
      case 'AWS::IAM::Role':
        return logicalId;
      default: return undefined;
    }
  }

  /** The properties CloudFormation would send for a resource of the template. */
  public properties(logicalId: string, template: Template = this.stack.template): Record<string, string> {
    const resolved = resolve(this.resource(template, logicalId).Properties ?? {}, this.context(template));
    return stringifyScalars(resolved) as Record<string, string>;
  }

  public secretArn(logicalId: string, template: Template = this.stack.template): string {
    return this.properties(logicalId, template).SecretArn;
  }

  /** Deploys the template's policies, then sends Create. */
  public create(logicalId: string, template = this.stack.template, requestId = randomUUID()): Promise<CfnResponse> {
    this.applyPolicies(template);
    return this.send('Create', logicalId, template, { requestId });
  }

  /** Deploys the new template's policies, then sends Update. */
  public update(logicalId: string, physicalResourceId: string, template: Template, oldTemplate: Template, requestId = randomUUID()): Promise<CfnResponse> {
    this.applyPolicies(template);
    return this.send('Update', logicalId, template, { physicalResourceId, oldTemplate, requestId });
  }

  /**
   * Sends Delete with `template`'s properties (for a cleanup: the OLD template's), under the policies
   * deployed last: nothing is deployed here.
   */
  public delete(logicalId: string, physicalResourceId: string, template = this.stack.template): Promise<CfnResponse> {
    return this.send('Delete', logicalId, template, { physicalResourceId, requestId: randomUUID() });
  }

  public async send(requestType: RequestType, logicalId: string, template: Template, options: SendOptions): Promise<CfnResponse> {
    const event = {
      RequestType: requestType,
      RequestId: options.requestId,
      ResponseURL: `https://cloudformation-custom-resource-response-${this.emulator.region}.s3.amazonaws.com/${encodeURIComponent(this.stackId)}?X-Amz-Signature=test`,
      ResourceType: RESOURCE_TYPE,
      LogicalResourceId: logicalId,
      StackId: this.stackId,
      ServiceToken: (options.resourceProperties ?? this.properties(logicalId, template)).ServiceToken,
      ResourceProperties: options.resourceProperties ?? this.properties(logicalId, template),
      ...(options.physicalResourceId === undefined ? {} : { PhysicalResourceId: options.physicalResourceId }),
      ...(options.oldTemplate === undefined ? {} : { OldResourceProperties: this.properties(logicalId, options.oldTemplate) }),
      ...(options.oldResourceProperties === undefined ? {} : { OldResourceProperties: options.oldResourceProperties }),
    };
    return this.runFramework(template, logicalId, event);
  }

  private async runFramework(template: Template, logicalId: string, event: object): Promise<CfnResponse> {
    const frameworkId = this.frameworkFunctionId(template, logicalId);
    const framework = this.loadFramework(template.Resources[frameworkId]);
    const handlerId = this.userFunctionId(template, frameworkId);
    const current: EventInFlight = { driver: this, handlerSpec: this.functionSpec(template, handlerId), responses: [] };
    framework.outbound.invokeFunction = async (request) => {
      const { driver, handlerSpec } = inFlightEvent();
      driver.invocations++;
      const invocation = await invokeInChildProcess(handlerSpec, JSON.parse(request.Payload));
      driver.logLines.push(...invocation.logLines);
      return {
        StatusCode: 200,
        Payload: Buffer.from(JSON.stringify(invocation.payload)),
        ...(invocation.functionError ? { FunctionError: invocation.functionError } : {}),
      };
    };
    framework.outbound.httpRequest = async (_options, body) => {
      inFlightEvent().responses.push(body);
    };
    process.env.USER_ON_EVENT_FUNCTION_ARN = this.context(template).attributes[handlerId].Arn;
    captureConsole();
    try {
      await inFlight.run(current, () => framework.onEvent(event));
    } finally {
      releaseConsole();
    }
    if (current.responses.length !== 1) {
      throw new Error(`the framework sent ${current.responses.length} responses`);
    }
    this.responseBodies.push(current.responses[0]);
    return JSON.parse(current.responses[0]) as CfnResponse;
  }

  private frameworkFunctionId(template: Template, logicalId: string): string {
    const token = this.resource(template, logicalId).Properties?.ServiceToken as { 'Fn::GetAtt': [string, string] };
    return token['Fn::GetAtt'][0];
  }

  private userFunctionId(template: Template, frameworkId: string): string {
    const variables = this.resource(template, frameworkId).Properties?.Environment as { Variables: Record<string, unknown> };
    const arn = variables.Variables.USER_ON_EVENT_FUNCTION_ARN as { 'Fn::GetAtt': [string, string] };
    return arn['Fn::GetAtt'][0];
  }

  private assetFolder(resource: TemplateResource): string {
    return path.join(this.stack.directory, String(resource.Metadata?.['aws:asset:path']));
  }

  private loadFramework(resource: TemplateResource): FrameworkModules {
    const folder = this.assetFolder(resource);
    const [file, exportName] = String(resource.Properties?.Handler).split('.');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const outbound = require(path.join(folder, 'outbound.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const onEvent = require(path.join(folder, `${file}.js`))[exportName];
    return { onEvent, outbound };
  }

  /** How Lambda would run one of the template's functions here: its bundle file and environment. */
  public functionSpec(template: Template, handlerId: string): LambdaFunctionSpec {
    const resource = this.resource(template, handlerId);
    const properties = resource.Properties ?? {};
    const [file, exportName] = String(properties.Handler).split('.');
    const variables = resolve((properties.Environment as { Variables?: object } | undefined)?.Variables ?? {}, this.context(template));
    return {
      file: path.join(this.assetFolder(resource), `${file}.js`),
      exportName,
      timeoutSeconds: this.options.functionTimeoutSeconds ?? Number(properties.Timeout ?? 3),
      environment: {
        ...(variables as Record<string, string>),
        ...this.emulator.env(),
        ...(this.options.endpoint === undefined ? {} : {
          AWS_ENDPOINT_URL_LIGHTSAIL: this.options.endpoint,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: this.options.endpoint,
          AWS_ENDPOINT_URL_S3: this.options.endpoint,
        }),
        // Its own principal: the emulator authorizes its requests against its role's policies.
        ...functionCredentials(handlerId),
        PATH: process.env.PATH ?? '',
        AWS_LAMBDA_FUNCTION_NAME: handlerId,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(properties.MemorySize ?? 128),
        AWS_EXECUTION_ENV: `AWS_Lambda_${String(properties.Runtime)}`,
        AWS_DEFAULT_REGION: this.emulator.region,
      },
    };
  }

  private resource(template: Template, logicalId: string): TemplateResource {
    const resource = template.Resources[logicalId];
    if (!resource) {
      throw new Error(`no resource ${logicalId} in the template`);
    }
    return resource;
  }

  private context(template: Template): ResolveContext {
    const refs: Record<string, string> = {};
    const attributes: Record<string, Record<string, string>> = {};
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const provisioned = this.physical[this.physicalKey(logicalId, resource) ?? ''];
      if (provisioned) {
        refs[logicalId] = provisioned.ref;
        attributes[logicalId] = provisioned.attributes;
      }
    }
    return { region: this.emulator.region, accountId: this.emulator.accountId, stackName: this.stack.stackName, stackId: this.stackId, refs, attributes };
  }
}

function inFlightEvent(): EventInFlight {
  const event = inFlight.getStore();
  if (!event) {
    throw new Error('the Provider framework called out of an event the StackDriver did not send');
  }
  return event;
}
