/**
 * Secrets Manager values as CloudFormation and ECS read them, from the emulated Secrets Manager, at
 * the moment they read them.
 *
 * CloudFormation: `{{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}`
 * in any resource property, resolved when the resource that holds it is created or updated, never
 * again on its own: "Updating a secret in Secrets Manager doesn't automatically update the secret in
 * CloudFormation" (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html).
 * secret-id is the secret's name or ARN; json-key, version-stage and version-id are optional; without
 * a stage or an id the value is the AWSCURRENT version's
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/cfn-example_reference-secret.html).
 * CloudFormation does not refuse a stage and an id together (aws-cloudformation/cloudformation-coverage-roadmap#1976);
 * Secrets Manager then requires the stage to be on that version.
 *
 * ECS: a container's `Secrets[].ValueFrom` (the secret's ARN, optionally `:json-key:version-stage:version-id`)
 * is read by the agent when a task starts, not at deployment.
 */

/** The versions of a secret, as the emulator lists them (AwsEmulator satisfies this). */
export interface SecretVersionSource {
  secretVersions(secretId: string): Array<{ versionId: string; stages: string[]; secretString?: string }>;
}

export interface SecretSelector {
  readonly secretId: string;
  readonly jsonKey?: string;
  readonly versionStage?: string;
  readonly versionId?: string;
}

/** What one dynamic reference (or ECS ValueFrom) resolved to when it was read. */
export interface ResolvedReference extends SecretSelector {
  /** The reference as written: `{{resolve:secretsmanager:...}}`, or the ValueFrom. */
  readonly reference: string;
  /** The version whose value was read. */
  readonly resolvedVersionId: string;
  readonly value: string;
}

/** A read that fails; its message is the one the caller reports (never a secret value). */
export class SecretReadError extends Error {}

const DYNAMIC_REFERENCE = /\{\{resolve:secretsmanager:([^}]*)\}\}/g;
const OTHER_DYNAMIC_REFERENCE = /\{\{resolve:(ssm|ssm-secure):/;

/** An ARN has six colons (arn:partition:service:region:account:secret:name-suffix): the id takes seven segments. */
function splitSecretId(text: string): [string, string[]] {
  const segments = text.split(':');
  const idLength = segments[0] === 'arn' ? 7 : 1;
  return [segments.slice(0, idLength).join(':'), segments.slice(idLength)];
}

function emptyToUndefined(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

export function parseDynamicReference(body: string): SecretSelector {
  const [secretId, [secretString, jsonKey, versionStage, versionId]] = splitSecretId(body);
  if (secretString !== undefined && secretString !== 'SecretString') {
    throw new SecretReadError(`The dynamic reference to ${secretId} names "${secretString}"; the only value it can select is SecretString`);
  }
  return { secretId, jsonKey: emptyToUndefined(jsonKey), versionStage: emptyToUndefined(versionStage), versionId: emptyToUndefined(versionId) };
}

/** ECS's ValueFrom for Secrets Manager: the secret's ARN (or name), then optionally :json-key:version-stage:version-id. */
export function parseValueFrom(valueFrom: string): SecretSelector {
  const [secretId, [jsonKey, versionStage, versionId]] = splitSecretId(valueFrom);
  return { secretId, jsonKey: emptyToUndefined(jsonKey), versionStage: emptyToUndefined(versionStage), versionId: emptyToUndefined(versionId) };
}

/** Reads the selected value as GetSecretValue would answer, with Secrets Manager's messages. */
export function readSecret(source: SecretVersionSource, selector: SecretSelector): { value: string; versionId: string } {
  let versions: ReturnType<SecretVersionSource['secretVersions']>;
  try {
    versions = source.secretVersions(selector.secretId);
  } catch {
    throw new SecretReadError("ResourceNotFoundException: Secrets Manager can't find the specified secret.");
  }
  const stage = selector.versionStage ?? (selector.versionId === undefined ? 'AWSCURRENT' : undefined);
  const version = selector.versionId === undefined
    ? versions.find((candidate) => candidate.stages.includes(stage!))
    : versions.find((candidate) => candidate.versionId === selector.versionId);
  if (version && stage !== undefined && !version.stages.includes(stage)) {
    throw new SecretReadError('InvalidRequestException: You provided a VersionStage that is not associated to the provided VersionId.');
  }
  if (!version || version.secretString === undefined) {
    const what = selector.versionId === undefined ? `staging label: ${stage}` : `VersionId: ${selector.versionId}`;
    throw new SecretReadError(`ResourceNotFoundException: Secrets Manager can't find the specified secret value for ${what}`);
  }
  if (selector.jsonKey === undefined) {
    return { value: version.secretString, versionId: version.versionId };
  }
  const field = jsonField(version.secretString, selector.jsonKey);
  if (field === undefined) {
    // The message CloudFormation gives, without naming the secret (cloudformation-coverage-roadmap#1822).
    throw new SecretReadError('Could not find a value associated with JSONKey in SecretString');
  }
  return { value: field, versionId: version.versionId };
}

function jsonField(secretString: string, key: string): string | undefined {
  try {
    const value = (JSON.parse(secretString) as Record<string, unknown>)[key];
    return value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/**
 * Resolves every Secrets Manager dynamic reference in resolved properties (strings anywhere, a
 * reference inside a longer string included). The first reference that cannot be read fails it all.
 */
export function resolveDynamicReferences(value: unknown, source: SecretVersionSource): { value: unknown; references: ResolvedReference[] } {
  const references: ResolvedReference[] = [];
  const walk = (item: unknown): unknown => {
    if (Array.isArray(item)) {
      return item.map(walk);
    }
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(Object.entries(item).map(([key, child]) => [key, walk(child)]));
    }
    if (typeof item !== 'string') {
      return item;
    }
    if (OTHER_DYNAMIC_REFERENCE.test(item)) {
      throw new SecretReadError('The local CloudFormation resolves only secretsmanager dynamic references, not ssm or ssm-secure');
    }
    return item.replace(DYNAMIC_REFERENCE, (reference: string, body: string) => {
      const selector = parseDynamicReference(body);
      const read = readSecret(source, selector);
      references.push({ ...selector, reference, resolvedVersionId: read.versionId, value: read.value });
      return read.value;
    });
  };
  return { value: walk(value), references };
}

export function hasDynamicReference(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes('{{resolve:');
}

/**
 * What the ECS agent does with a container definition's `Secrets` when a task starts: reads each one
 * now, or fails the start as ECS reports it ("ResourceInitializationError: unable to pull secrets or
 * registry auth: execution resource retrieval failed: unable to retrieve secret from asm: ... failed
 * to fetch secret ARN from secrets manager: CODE: MESSAGE", as users quote it in aws/copilot-cli#2095,
 * aws-samples/dify-self-hosted-on-aws#35).
 */
export function readTaskSecrets(
  containerDefinitions: Array<{ Name?: string; Secrets?: Array<{ Name: string; ValueFrom: string }> }>,
  source: SecretVersionSource,
): { environment: Record<string, Record<string, string>>; references: ResolvedReference[] } {
  const environment: Record<string, Record<string, string>> = {};
  const references: ResolvedReference[] = [];
  for (const container of containerDefinitions) {
    const variables: Record<string, string> = {};
    for (const secret of container.Secrets ?? []) {
      const selector = parseValueFrom(secret.ValueFrom);
      try {
        const read = readSecret(source, selector);
        variables[secret.Name] = read.value;
        references.push({ ...selector, reference: secret.ValueFrom, resolvedVersionId: read.versionId, value: read.value });
      } catch (error) {
        throw new SecretReadError('ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ' +
          `unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${selector.secretId} ` +
          `from secrets manager: ${(error as Error).message}`);
      }
    }
    environment[container.Name ?? ''] = variables;
  }
  return { environment, references };
}
