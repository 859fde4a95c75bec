/**
 * A secret's versions and their staging labels, with Secrets Manager's rules for moving labels:
 * a label sits on at most one version, and whenever AWSCURRENT moves, the version it leaves gets
 * AWSPREVIOUS (which leaves the version that had it). A rotation starts with an AWSPENDING version
 * that has no value yet.
 */
import { secretsError } from './errors';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';

export interface VersionRecord {
  readonly versionId: string;
  /** Neither value is set on the version RotateSecret makes, until PutSecretValue fills it. */
  secretString?: string;
  secretBinary?: string;
  readonly createdDate: number;
  stages: string[];
}

export interface RotationConfig {
  readonly enabled: boolean;
  readonly lambdaArn: string;
  readonly automaticallyAfterDays: number;
}

export interface SecretRecord {
  readonly name: string;
  readonly arn: string;
  readonly createdDate: number;
  lastChangedDate: number;
  /** Set when the secret is scheduled for deletion. */
  deletedDate?: number;
  /** In creation order, deprecated versions (no label) included. */
  readonly versions: VersionRecord[];
  /** Absent until rotation is first configured. */
  rotation?: RotationConfig;
  /** Its tags (CloudFormation adds its aws:cloudformation:* tags to the secrets it creates). */
  readonly tags: Readonly<Record<string, string>>;
}

export function versionById(secret: SecretRecord, versionId: string): VersionRecord | undefined {
  return secret.versions.find((version) => version.versionId === versionId);
}

export function versionByStage(secret: SecretRecord, stage: string): VersionRecord | undefined {
  return secret.versions.find((version) => version.stages.includes(stage));
}

export function hasValue(version: VersionRecord): boolean {
  return version.secretString !== undefined || version.secretBinary !== undefined;
}

/** Versions that carry at least one label; the others are deprecated. */
export function labelledVersions(secret: SecretRecord): VersionRecord[] {
  return secret.versions.filter((version) => version.stages.length > 0);
}

function detachStage(secret: SecretRecord, stage: string): void {
  for (const version of secret.versions) {
    version.stages = version.stages.filter((label) => label !== stage);
  }
}

/** Puts the label on the version, taking it off any other version (and applying the AWSCURRENT rule). */
function attachStage(secret: SecretRecord, version: VersionRecord, stage: string): void {
  const holder = versionByStage(secret, stage);
  if (holder === version) {
    return;
  }
  detachStage(secret, stage);
  version.stages.push(stage);
  if (stage === AWSCURRENT && holder) {
    detachStage(secret, AWSPREVIOUS);
    holder.stages.push(AWSPREVIOUS);
  }
}

/**
 * Adds a version as PutSecretValue does: without `stages` it becomes AWSCURRENT; the first version of
 * a secret always gets AWSCURRENT.
 */
export function addVersion(secret: SecretRecord, version: VersionRecord, stages: readonly string[] | undefined): void {
  secret.versions.push(version);
  labelStoredVersion(secret, version, stages);
}

/** Labels a version that PutSecretValue stored (a new one, or the value of a pending one). */
export function labelStoredVersion(secret: SecretRecord, version: VersionRecord, stages: readonly string[] | undefined): void {
  const labels = [...(stages ?? [AWSCURRENT])];
  if (!versionByStage(secret, AWSCURRENT) && !labels.includes(AWSCURRENT)) {
    labels.push(AWSCURRENT);
  }
  for (const label of labels) {
    attachStage(secret, version, label);
  }
}

/**
 * RotateSecret's first move: version `token`, AWSPENDING, without a value. AWSPENDING may be free or
 * sit on the AWSCURRENT version (then it moves); on any other version a previous rotation is
 * unfinished and RotateSecret fails. If `token` already holds AWSPENDING, this is a retry of that
 * rotation (Secrets Manager retries with the same token) and nothing changes.
 */
export function addPendingVersion(secret: SecretRecord, token: string, createdDate: number): void {
  const pending = versionByStage(secret, AWSPENDING);
  const existing = versionById(secret, token);
  if (pending && pending === existing) {
    return;
  }
  if (pending && pending !== versionByStage(secret, AWSCURRENT)) {
    throw secretsError('InvalidRequestException', "A previous rotation isn't complete. That rotation will be reattempted.");
  }
  if (existing) {
    throw new Error(`Version ${token} of secret ${secret.name} already exists: a rotation needs a new token`);
  }
  const version: VersionRecord = { versionId: token, createdDate, stages: [] };
  secret.versions.push(version);
  attachStage(secret, version, AWSPENDING);
}

function invalidParameter(message: string): Error {
  return secretsError('InvalidParameterException', message);
}

function requireVersion(secret: SecretRecord, versionId: string, parameter: string): VersionRecord {
  const version = versionById(secret, versionId);
  if (!version) {
    throw invalidParameter(`The parameter ${parameter} is not a valid version of the secret: ${versionId}`);
  }
  return version;
}

/** Checks RemoveFromVersionId against the version that holds the label now. */
function checkRemoveFrom(stage: string, holder: VersionRecord | undefined, removeFrom: string | undefined): void {
  if (!holder) {
    if (removeFrom !== undefined) {
      throw invalidParameter(`Staging label ${stage} is not attached to version ${removeFrom}.`);
    }
    return;
  }
  if (removeFrom === undefined) {
    throw invalidParameter(
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ` +
      `${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }
  if (removeFrom !== holder.versionId) {
    throw invalidParameter(
      `The parameter RemoveFromVersionId doesn't match. Staging label ${stage} is currently attached to version ` +
      `${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }
}

/** UpdateSecretVersionStage: moves a label to a version and/or removes it from one. */
export function moveStage(secret: SecretRecord, stage: string, moveTo: string | undefined, removeFrom: string | undefined): void {
  if (moveTo === undefined && removeFrom === undefined) {
    throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
  }
  if (removeFrom !== undefined) {
    requireVersion(secret, removeFrom, 'RemoveFromVersionId');
  }
  if (moveTo === undefined) {
    if (stage === AWSCURRENT) {
      throw invalidParameter('You can only move staging label AWSCURRENT to a different secret version. It cannot be completely removed.');
    }
    checkRemoveFrom(stage, versionByStage(secret, stage), removeFrom);
    detachStage(secret, stage);
    return;
  }
  const target = requireVersion(secret, moveTo, 'MoveToVersionId');
  const holder = versionByStage(secret, stage);
  if (holder === target) {
    return;
  }
  checkRemoveFrom(stage, holder, removeFrom);
  attachStage(secret, target, stage);
}
