/**
 * Two Secrets Manager servers for one differential test: moto's (written by others) and the
 * project's emulator (local/emulator). Both answer the same calls in the same order; each run
 * records what a client can observe, normalized only where the two legitimately differ:
 *
 * - ARN suffix: the six random characters Secrets Manager appends to a secret's name in its ARN
 *   (each server draws its own) become `-<suffix>`.
 * - Lightsail key ids: moto has no Lightsail, so a fresh emulator serves Lightsail in both runs; the
 *   ids it draws are named by order of first appearance (`<key 1>`, `<key 2>`, ...).
 * - Error messages: kept up to the exception's name; the wording after it is each server's own
 *   (the SDK and the handlers decide by the name).
 * - Timestamps (CreatedDate, DeletionDate, ...): dropped; each server reads its own clock.
 * - Label order within one version, and the order of versions: sorted (neither API promises one).
 * - Deprecated versions in DescribeSecret's VersionIdsToStages: dropped when they have no label.
 *   moto 5.2.5 lists them with `[]`; AWS lists "the versions of the secret that have staging labels
 *   attached. Versions that don't have staging labels are considered deprecated"
 *   (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html,
 *   VersionIdsToStages). The edge-case test pins this deviation down without the normalization.
 *
 * Nothing else is normalized: version ids are the ClientRequestTokens the test chooses, values are
 * the test's own.
 */
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsEmulator } from '../../../local/emulator';
import { MotoServer } from './moto-server';

export type ServerName = 'local' | 'moto';

export interface SecretsManagerUnderTest {
  readonly name: ServerName;
  /** Serves Secrets Manager. */
  readonly endpoint: string;
  /** Serves Lightsail (and, for `local`, Secrets Manager too). */
  readonly lightsail: AwsEmulator;
  /** An empty secret, as AWS::SecretsManager::Secret without a value makes it: no version at all. */
  createEmptySecret(name: string): Promise<string>;
  /** What the handlers' SDK clients need to reach these servers. */
  env(): Record<string, string>;
  client(): SecretsManagerClient;
}

function clientFor(endpoint: string, env: Record<string, string>): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

function underTest(name: ServerName, endpoint: string, lightsail: AwsEmulator, createEmptySecret: (secretName: string) => Promise<string>): SecretsManagerUnderTest {
  const env = () => ({ ...lightsail.env(), AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint });
  return { name, endpoint, lightsail, createEmptySecret, env, client: () => clientFor(endpoint, env()) };
}

export interface BothServers {
  readonly servers: readonly SecretsManagerUnderTest[];
  stop(): Promise<void>;
}

/** The emulator and moto (plus an emulator for moto's Lightsail), each on 127.0.0.1. */
export async function startBoth(): Promise<BothServers> {
  const started: Array<{ stop(): unknown }> = [];
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop()));
  };
  try {
    const local = await AwsEmulator.start();
    started.push(local);
    const moto = await MotoServer.start();
    started.push(moto);
    const motoLightsail = await AwsEmulator.start();
    started.push(motoLightsail);
    const motoClient = clientFor(moto.endpoint, motoLightsail.env());
    return {
      servers: [
        underTest('local', local.endpoint, local, async (name) => local.createSecret(name).arn),
        underTest('moto', moto.endpoint, motoLightsail, async (name) => (await motoClient.send(new CreateSecretCommand({ Name: name }))).ARN!),
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs `body` with these variables in process.env, then puts the old values back. */
export async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  }
}

/** The normalizations named above, for one run (the key numbering is per run). */
export class Normalizer {
  private readonly keys = new Map<string, string>();

  text(text: string): string {
    return text
      // The tests' secret names are alphanumeric, so the suffix is the part after the only '-'.
      .replace(/(:secret:[A-Za-z0-9]+)-[A-Za-z0-9]{6}(?![A-Za-z0-9])/g, '$1-<suffix>')
      .replace(/AKIA[A-Z2-7]{16}/g, (id) => {
        if (!this.keys.has(id)) {
          this.keys.set(id, `<key ${this.keys.size + 1}>`);
        }
        return this.keys.get(id)!;
      });
  }

  /** A value with the ARN suffixes and key ids renamed, and without timestamps. */
  value<T>(value: T): T {
    if (value === undefined) {
      return value;
    }
    return JSON.parse(this.text(JSON.stringify(value)), (key, item: unknown) => (key.endsWith('Date') ? undefined : item)) as T;
  }

  /**
   * An error as `{ error: '<text up to the exception name>' }`, or its whole text when it names no
   * exception (a handler's own refusal). A server that did not answer is no observation: rethrown.
   */
  error(error: unknown): { error: string } {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (/ECONNREFUSED|ECONNRESET|socket hang up|ETIMEDOUT|TimeoutError/.test(message)) {
      throw error;
    }
    const upToName = /^[\s\S]*?\b[A-Z][A-Za-z]*Exception\b/.exec(message);
    return { error: this.text((upToName?.[0] ?? message).replace(/^Error: /, '')) };
  }
}

export type Observed = unknown;

/** The result of a call, normalized: its value, or its error. */
export async function outcome(normalizer: Normalizer, call: () => Promise<unknown>): Promise<Observed> {
  try {
    const value = (await call()) as Record<string, unknown> | undefined;
    if (value && typeof value === 'object' && '$metadata' in value) {
      const { $metadata: _metadata, ...rest } = value;
      return normalizer.value(rest);
    }
    return normalizer.value(value ?? null);
  } catch (error) {
    return normalizer.error(error);
  }
}

function sortedStages(map: Record<string, string[]> | undefined, keepUnlabelled: boolean): Record<string, string[]> {
  return Object.fromEntries(Object.entries(map ?? {})
    .filter(([, stages]) => keepUnlabelled || stages.length > 0)
    .map(([versionId, stages]): [string, string[]] => [versionId, [...stages].sort()])
    .sort(([a], [b]) => a.localeCompare(b)));
}

/** DescribeSecret's staging labels by version, sorted; deprecated versions dropped unless asked. */
export async function stagesOf(client: SecretsManagerClient, secretArn: string, keepUnlabelled = false): Promise<Record<string, string[]>> {
  const described = await client.send(new DescribeSecretCommand({ SecretId: secretArn }));
  return sortedStages(described.VersionIdsToStages, keepUnlabelled);
}

/**
 * What a client can see of the secret: the labels of each version, and GetSecretValue of every
 * version id the test has used (its value and labels, or the error).
 */
export async function snapshot(client: SecretsManagerClient, normalizer: Normalizer, secretArn: string, versionIds: readonly string[]) {
  const versions: Record<string, Observed> = {};
  for (const versionId of versionIds) {
    versions[versionId] = await outcome(normalizer, async () => {
      const answer = await client.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: versionId }));
      return { value: answer.SecretString, stages: [...(answer.VersionStages ?? [])].sort() };
    });
  }
  return { stages: await stagesOf(client, secretArn), versions };
}
