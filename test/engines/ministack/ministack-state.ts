/**
 * What ministack holds, read through its APIs with the ordinary SDK clients: the stack, its events,
 * the secret's versions, the functions, and every CloudWatch Logs event it kept. Log groups and events
 * go with the stack, so what was read once is kept: the leak check sees every step's.
 */
import { CloudFormationClient, DescribeStackEventsCommand, DescribeStacksCommand, Stack, StackEvent } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CapturedText } from './ministack-server';

export interface SecretVersion {
  readonly versionId: string;
  readonly stages: string[];
  readonly secretString?: string;
}

export class MinistackState {
  private readonly cloudFormation: CloudFormationClient;
  private readonly logs: CloudWatchLogsClient;
  private readonly secrets: SecretsManagerClient;
  private readonly lambda: LambdaClient;
  private readonly logEvents = new Map<string, CapturedText>();
  private readonly stackEvents = new Map<string, StackEvent>();

  constructor(endpoint: string, region: string) {
    const config = { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    this.cloudFormation = new CloudFormationClient(config);
    this.logs = new CloudWatchLogsClient(config);
    this.secrets = new SecretsManagerClient(config);
    this.lambda = new LambdaClient(config);
  }

  async stack(stackNameOrId: string): Promise<Stack> {
    const { Stacks } = await this.cloudFormation.send(new DescribeStacksCommand({ StackName: stackNameOrId }));
    if (Stacks?.length !== 1) {
      throw new Error(`DescribeStacks ${stackNameOrId} answered ${Stacks?.length ?? 0} stacks`);
    }
    return Stacks[0];
  }

  async outputs(stackName: string): Promise<Record<string, string>> {
    const stack = await this.stack(stackName);
    return Object.fromEntries((stack.Outputs ?? []).map((output) => [output.OutputKey!, output.OutputValue!]));
  }

  /** The stack's events, oldest first; every event read is also kept for allStackEvents(). */
  async events(stackId: string): Promise<StackEvent[]> {
    const events: StackEvent[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.cloudFormation.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken }));
      events.push(...(page.StackEvents ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    events.forEach((event) => this.stackEvents.set(event.EventId!, event));
    // DescribeStackEvents answers newest first.
    return events.reverse();
  }

  allStackEvents(): StackEvent[] {
    return [...this.stackEvents.values()];
  }

  /** Reads every log group's events now; answers every event read so far, by this call or earlier. */
  async readLogEvents(): Promise<CapturedText[]> {
    for (const logGroupName of await this.logGroupNames()) {
      let nextToken: string | undefined;
      do {
        const page = await this.logs.send(new FilterLogEventsCommand({ logGroupName, nextToken }));
        for (const event of page.events ?? []) {
          const id = `${logGroupName}|${event.logStreamName}|${event.eventId ?? `${event.timestamp}|${event.message}`}`;
          this.logEvents.set(id, { where: `CloudWatch Logs ${logGroupName}`, text: event.message ?? '' });
        }
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return [...this.logEvents.values()];
  }

  async secretNames(): Promise<string[]> {
    const names: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.secrets.send(new ListSecretsCommand({ NextToken }));
      names.push(...(page.SecretList ?? []).map((secret) => secret.Name!));
      NextToken = page.NextToken;
    } while (NextToken);
    return names;
  }

  /** Every version of the secret (those without a label too), with its value. */
  async secretVersions(secretId: string): Promise<SecretVersion[]> {
    const { Versions } = await this.secrets.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }));
    return Promise.all((Versions ?? []).map(async (version) => {
      const value = await this.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: version.VersionId }));
      return { versionId: version.VersionId!, stages: version.VersionStages ?? [], secretString: value.SecretString };
    }));
  }

  async functionNames(): Promise<string[]> {
    const { Functions } = await this.lambda.send(new ListFunctionsCommand({}));
    return (Functions ?? []).map((fn) => fn.FunctionName!);
  }

  destroy(): void {
    [this.cloudFormation, this.logs, this.secrets, this.lambda].forEach((client) => client.destroy());
  }

  private async logGroupNames(): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.logs.send(new DescribeLogGroupsCommand({ nextToken }));
      names.push(...(page.logGroups ?? []).map((group) => group.logGroupName!));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }
}
