/** Secrets Manager: secret values and their versions, for the operations the handler uses. */
import { commonError, secretsError } from './errors';
import { optionalStages, optionalString, requiredString } from './secrets-input';
import { epochSeconds, newSecretArnSuffix, newUuid } from './ids';
import {
  AWSCURRENT,
  SecretRecord,
  VersionRecord,
  addPendingVersion,
  addVersion,
  hasValue,
  labelStoredVersion,
  labelledVersions,
  moveStage,
  versionById,
  versionByStage,
} from './secret-versions';
import type { JsonObject, Place, RotationOptions } from './types';

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

function notFound(message = "Secrets Manager can't find the specified secret."): Error {
  return secretsError('ResourceNotFoundException', message);
}

function markedForDeletion(): Error {
  return secretsError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
}

/** What GetSecretValue answers for a secret whose encryption key can no longer decrypt it. */
export type EncryptionKeyDamage = 'DecryptionFailure' | 'KMSAccessDeniedException' | 'KMSInvalidStateException';

const DAMAGE_MESSAGES: Record<EncryptionKeyDamage, string> = {
  DecryptionFailure: "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
  KMSAccessDeniedException: 'Access to KMS is not allowed',
  KMSInvalidStateException: 'The KMS key of the secret is disabled.',
};

export class SecretsManagerBackend {
  private readonly secrets = new Map<string, SecretRecord>();
  /** Secrets (by name) whose encryption key was disabled or denied by hand. */
  private readonly damaged = new Map<string, EncryptionKeyDamage>();

  constructor(private readonly place: Place) {}

  reset(): void {
    this.secrets.clear();
    this.damaged.clear();
  }

  // ----- setup and inspection -----

  /** An empty secret (no versions), as AWS::SecretsManager::Secret without a value. */
  createSecret(name: string, tags: Record<string, string> = {}): { arn: string } {
    if (!SECRET_NAME.test(name)) {
      throw new Error(`Invalid secret name: ${name}`);
    }
    if (this.secrets.has(name)) {
      throw new Error(`Secret ${name} already exists`);
    }
    const { region, accountId } = this.place;
    const now = epochSeconds();
    const arn = `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${newSecretArnSuffix()}`;
    this.secrets.set(name, { name, arn, createdDate: now, lastChangedDate: now, versions: [], tags: { ...tags } });
    return { arn };
  }

  forceDelete(secretId: string): void {
    const secret = this.lookup(secretId);
    if (secret) {
      this.secrets.delete(secret.name);
    }
  }

  secretVersions(secretId: string): Array<{ versionId: string; stages: string[]; secretString?: string }> {
    return this.setupSecret(secretId).versions.map((version) => ({
      versionId: version.versionId,
      stages: [...version.stages],
      ...(version.secretString === undefined ? {} : { secretString: version.secretString }),
    }));
  }

  currentSecretValue(secretId: string): string | undefined {
    return versionByStage(this.setupSecret(secretId), AWSCURRENT)?.secretString;
  }

  /**
   * The secret's encryption key can no longer be used (disabled, scheduled for deletion, its policy
   * changed): GetSecretValue answers `damage`, PutSecretValue EncryptionFailure, as Secrets Manager
   * does (https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html).
   * DescribeSecret still answers: the metadata is not encrypted with the key.
   */
  damageEncryptionKey(secretId: string, damage: EncryptionKeyDamage): void {
    this.damaged.set(this.setupSecret(secretId).name, damage);
  }

  enableRotation(secretId: string, options: RotationOptions): void {
    const secret = this.setupSecret(secretId);
    const { region, accountId } = this.place;
    secret.rotation = {
      enabled: true,
      lambdaArn: options.rotationLambdaArn ?? secret.rotation?.lambdaArn ?? `arn:aws:lambda:${region}:${accountId}:function:emulator-rotation`,
      automaticallyAfterDays: options.automaticallyAfterDays ?? secret.rotation?.automaticallyAfterDays ?? 30,
    };
  }

  disableRotation(secretId: string): void {
    const secret = this.setupSecret(secretId);
    if (secret.rotation) {
      secret.rotation = { ...secret.rotation, enabled: false };
    }
  }

  /** RotateSecret up to the invocation of the rotation function: rotation on, version `token` AWSPENDING without a value. */
  beginRotation(secretId: string, token: string): void {
    const secret = this.setupSecret(secretId);
    if (secret.deletedDate !== undefined) {
      throw markedForDeletion();
    }
    if (token.length < 32 || token.length > 64) {
      throw new Error(`A ClientRequestToken has 32 to 64 characters: ${token}`);
    }
    addPendingVersion(secret, token, epochSeconds());
    this.enableRotation(secretId, {});
  }

  // ----- operations -----

  handle(operation: string, input: JsonObject): JsonObject {
    switch (operation) {
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'UpdateSecretVersionStage':
        return this.updateSecretVersionStage(input);
      case 'DescribeSecret':
        return this.describeSecret(input);
      case 'ListSecretVersionIds':
        return this.listSecretVersionIds(input);
      case 'DeleteSecret':
        return this.deleteSecret(input);
      default:
        throw commonError('UnknownOperationException', `The emulator does not implement Secrets Manager ${operation}.`);
    }
  }

  private getSecretValue(input: JsonObject): JsonObject {
    const versionId = optionalString(input, 'VersionId', 32, 64);
    const stage = optionalString(input, 'VersionStage', 1, 256);
    const secret = this.liveSecret(input);
    const damage = this.damaged.get(secret.name);
    if (damage) {
      throw secretsError(damage, DAMAGE_MESSAGES[damage]);
    }
    const version = versionId === undefined ? this.versionForStage(secret, stage ?? AWSCURRENT) : this.versionForId(secret, versionId, stage);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.versionId,
      ...(version.secretString === undefined ? {} : { SecretString: version.secretString }),
      ...(version.secretBinary === undefined ? {} : { SecretBinary: version.secretBinary }),
      VersionStages: [...version.stages],
      CreatedDate: version.createdDate,
    };
  }

  /** A version without a value (the one RotateSecret makes) is not found, like a missing one. */
  private versionForStage(secret: SecretRecord, stage: string): VersionRecord {
    const version = versionByStage(secret, stage);
    if (!version || !hasValue(version)) {
      throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    }
    return version;
  }

  private versionForId(secret: SecretRecord, versionId: string, stage: string | undefined): VersionRecord {
    const version = versionById(secret, versionId);
    if (!version) {
      throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    }
    if (stage !== undefined && !version.stages.includes(stage)) {
      throw secretsError('InvalidRequestException', 'You provided a VersionStage that is not associated to the provided VersionId.');
    }
    if (!hasValue(version)) {
      throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
    }
    return version;
  }

  private putSecretValue(input: JsonObject): JsonObject {
    const token = optionalString(input, 'ClientRequestToken', 32, 64) ?? newUuid();
    const secretString = optionalString(input, 'SecretString', 0, 65536);
    const secretBinary = optionalString(input, 'SecretBinary', 0, 87384);
    const stages = optionalStages(input);
    const secret = this.liveSecret(input);
    if ((secretString === undefined) === (secretBinary === undefined)) {
      throw secretsError('InvalidParameterException', 'You must provide either SecretString or SecretBinary, but not both.');
    }
    if (this.damaged.has(secret.name)) {
      throw secretsError('EncryptionFailure', "Secrets Manager can't encrypt the protected secret text using the provided KMS key. " +
        'Check that the KMS key is available, enabled, and not in an invalid state.');
    }
    const existing = versionById(secret, token);
    if (existing && !hasValue(existing)) {
      // The AWSPENDING version RotateSecret made: the rotation function's createSecret step fills it.
      existing.secretString = secretString;
      existing.secretBinary = secretBinary;
      labelStoredVersion(secret, existing, stages);
      secret.lastChangedDate = epochSeconds();
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
    }
    if (existing) {
      if (existing.secretString !== secretString || existing.secretBinary !== secretBinary) {
        throw secretsError(
          'ResourceExistsException',
          `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${secret.arn}.`,
        );
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
    }
    const now = epochSeconds();
    const version: VersionRecord = { versionId: token, secretString, secretBinary, createdDate: now, stages: [] };
    addVersion(secret, version, stages);
    secret.lastChangedDate = now;
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages] };
  }

  private updateSecretVersionStage(input: JsonObject): JsonObject {
    const stage = requiredString(input, 'VersionStage', 1, 256);
    const moveTo = optionalString(input, 'MoveToVersionId', 32, 64);
    const removeFrom = optionalString(input, 'RemoveFromVersionId', 32, 64);
    const secret = this.liveSecret(input);
    moveStage(secret, stage, moveTo, removeFrom);
    secret.lastChangedDate = epochSeconds();
    return { ARN: secret.arn, Name: secret.name };
  }

  private describeSecret(input: JsonObject): JsonObject {
    const secret = this.findSecret(input);
    const labelled = labelledVersions(secret);
    return {
      ARN: secret.arn,
      Name: secret.name,
      CreatedDate: secret.createdDate,
      LastChangedDate: secret.lastChangedDate,
      ...(secret.deletedDate === undefined ? {} : { DeletedDate: secret.deletedDate }),
      // Never configured for rotation: no RotationEnabled at all (the SDK shows undefined).
      ...(secret.rotation === undefined ? {} : {
        RotationEnabled: secret.rotation.enabled,
        RotationLambdaARN: secret.rotation.lambdaArn,
        RotationRules: { AutomaticallyAfterDays: secret.rotation.automaticallyAfterDays },
      }),
      ...(labelled.length === 0 ? {} : {
        VersionIdsToStages: Object.fromEntries(labelled.map((version) => [version.versionId, [...version.stages]])),
      }),
    };
  }

  private listSecretVersionIds(input: JsonObject): JsonObject {
    const secret = this.findSecret(input);
    const versions = input.IncludeDeprecated === true ? secret.versions : labelledVersions(secret);
    return {
      ARN: secret.arn,
      Name: secret.name,
      Versions: versions.map((version) => ({
        VersionId: version.versionId,
        VersionStages: [...version.stages],
        CreatedDate: version.createdDate,
      })),
    };
  }

  private deleteSecret(input: JsonObject): JsonObject {
    const secret = this.findSecret(input);
    const force = input.ForceDeleteWithoutRecovery === true;
    const windowDays = input.RecoveryWindowInDays;
    if (force && windowDays !== undefined) {
      throw secretsError('InvalidParameterException', "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    if (windowDays !== undefined && (typeof windowDays !== 'number' || windowDays < 7 || windowDays > 30)) {
      throw secretsError('InvalidParameterException', 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    if (secret.deletedDate !== undefined && !force) {
      throw markedForDeletion();
    }
    const deletionDate = epochSeconds() + (force ? 0 : ((windowDays as number | undefined) ?? 30) * 86400);
    if (force) {
      this.secrets.delete(secret.name);
    } else {
      secret.deletedDate = deletionDate;
    }
    return { ARN: secret.arn, Name: secret.name, DeletionDate: deletionDate };
  }

  /**
   * What IAM judges a request on this SecretId against: the secret's ARN and tags; for a secret that
   * does not exist, the id as an ARN, without tags.
   */
  iamResource(secretId: unknown): { arn: string; tags: Record<string, string> } | undefined {
    if (typeof secretId !== 'string' || secretId === '') {
      return undefined;
    }
    const secret = this.lookup(secretId);
    if (secret) {
      return { arn: secret.arn, tags: { ...secret.tags } };
    }
    const { region, accountId } = this.place;
    return { arn: secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:${region}:${accountId}:secret:${secretId}`, tags: {} };
  }

  // ----- helpers -----

  /** By name, full ARN, or partial ARN (the ARN without its random suffix). */
  private lookup(secretId: string): SecretRecord | undefined {
    for (const secret of this.secrets.values()) {
      if (secret.name === secretId || secret.arn === secretId || secret.arn.slice(0, -7) === secretId) {
        return secret;
      }
    }
    return undefined;
  }

  private findSecret(input: JsonObject): SecretRecord {
    const secret = this.lookup(requiredString(input, 'SecretId', 1, 2048));
    if (!secret) {
      throw notFound();
    }
    return secret;
  }

  /** A secret that is not scheduled for deletion. */
  private liveSecret(input: JsonObject): SecretRecord {
    const secret = this.findSecret(input);
    if (secret.deletedDate !== undefined) {
      throw markedForDeletion();
    }
    return secret;
  }

  private setupSecret(secretId: string): SecretRecord {
    const secret = this.lookup(secretId);
    if (!secret) {
      throw new Error(`Secret ${secretId} does not exist in the emulator`);
    }
    return secret;
  }
}
