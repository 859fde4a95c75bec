import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { StoredAccessKey, VersionStage } from '../lib/contract';
import { callAws } from './retry';
import { sdkClientConfig } from './sdk-config';
import { describeError, errorName } from './sdk-errors';

const secretsManager = new SecretsManagerClient(sdkClientConfig());

function onSecret(secretArn: string): string {
  return `secret ${secretArn}`;
}

/** A version of the secret, reduced to what identifies the key it holds. Never the secret itself. */
export interface StoredVersion {
  readonly versionId: string;
  readonly accessKeyId?: string;
  readonly bucketName?: string;
  readonly serial?: string;
}

export interface VersionSelector {
  readonly VersionId?: string;
  readonly VersionStage?: VersionStage;
}

function selectorText(selector: VersionSelector): string {
  return `version ${[selector.VersionId, selector.VersionStage].filter(Boolean).join(' ')}`;
}

/**
 * Why a secret cannot be read at all, which retrying will not change: its encryption key can no
 * longer decrypt it (disabled, scheduled for deletion, or its policy changed), or the secret is
 * scheduled for deletion. Secrets Manager answers DecryptionFailure for a key it cannot use
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html); the KMS
 * errors are what KMS itself answers for a key that denies or is not enabled.
 */
const UNREADABLE_ERROR_NAMES = ['DecryptionFailure', 'KMSAccessDeniedException', 'KMSInvalidStateException', 'KMSDisabledException'];

/** The secret cannot be read at all (see UNREADABLE_ERROR_NAMES); a Delete goes on without it. */
export class SecretUnreadable extends Error {}

/**
 * GetSecretValue of one version. Undefined when the secret, or that version of it, does not exist
 * (an empty secret has no AWSCURRENT; a rotation's new version has no value before createSecret).
 */
async function getVersion(secretArn: string, selector: VersionSelector) {
  try {
    const answer = await callAws({ action: 'secretsmanager:GetSecretValue', resource: onSecret(secretArn) },
      (abortSignal) => secretsManager.send(new GetSecretValueCommand({ SecretId: secretArn, ...selector }), { abortSignal }));
    return answer.VersionId ? answer : undefined;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') {
      return undefined;
    }
    const reason = `Could not read ${selectorText(selector)} of secret ${secretArn}: ${describeError(error)}`;
    // Stryker disable next-line StringLiteral: any text that is not an unreadable error's name does for an error without a name.
    if (isMarkedForDeletion(error) || UNREADABLE_ERROR_NAMES.includes(errorName(error) ?? '')) {
      throw new SecretUnreadable(reason);
    }
    throw new Error(reason);
  }
}

/** One version of the secret, reduced to the key it holds; undefined when absent (see getVersion). */
export async function readVersion(secretArn: string, selector: VersionSelector): Promise<StoredVersion | undefined> {
  const answer = await getVersion(secretArn, selector);
  return answer && { versionId: answer.VersionId!, ...identifyKey(answer.SecretString) };
}

/** The full value of one version, for rotation, which must copy and test it. Undefined when absent. */
export async function readStoredKey(secretArn: string, selector: VersionSelector): Promise<StoredAccessKey | undefined> {
  const answer = await getVersion(secretArn, selector);
  if (!answer) {
    return undefined;
  }
  let value: Partial<StoredAccessKey> = {};
  try {
    value = JSON.parse(answer.SecretString ?? '{}') as Partial<StoredAccessKey>;
  } catch {
    // Edited by hand: reported below like any other value that is not a key.
  }
  if (!value.accessKeyId || !value.secretAccessKey || !value.bucketName) {
    throw new Error(`${selectorText(selector)} of secret ${secretArn} does not hold a Lightsail bucket access key`);
  }
  return value as StoredAccessKey;
}

/** Whether rotation is enabled, and the staging labels of each version. */
export async function describeVersions(secretArn: string): Promise<{ rotationEnabled: boolean; stages: Record<string, string[]> }> {
  try {
    const answer = await callAws({ action: 'secretsmanager:DescribeSecret', resource: onSecret(secretArn) },
      (abortSignal) => secretsManager.send(new DescribeSecretCommand({ SecretId: secretArn }), { abortSignal }));
    return { rotationEnabled: answer.RotationEnabled === true, stages: answer.VersionIdsToStages ?? {} };
  } catch (error) {
    throw new Error(`Could not describe secret ${secretArn}: ${describeError(error)}`);
  }
}

function isMarkedForDeletion(error: unknown): boolean {
  return errorName(error) === 'InvalidRequestException' && /marked for deletion/i.test(describeError(error));
}

/** The key id, bucket and serial of a stored value; nothing when the value is not ours (edited by hand). */
function identifyKey(secretString: string | undefined): Pick<StoredVersion, 'accessKeyId' | 'bucketName' | 'serial'> {
  try {
    const parsed = JSON.parse(secretString ?? '') as Partial<StoredAccessKey>;
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    // Stryker disable BlockStatement: an emptied catch block below is equivalent (it returns undefined, which readVersion spreads exactly like {}).
    return { accessKeyId: text(parsed.accessKeyId), bucketName: text(parsed.bucketName), serial: text(parsed.serial) };
  } catch {
    // Stryker restore BlockStatement
    return {};
  }
}

/**
 * Stores the key as a new version: AWSCURRENT, unless another stage is given (rotation stores
 * AWSPENDING). The token makes a repeated call with the same value a no-op, so an SDK retry after a
 * lost response cannot store the key twice.
 */
export async function storeAccessKey(
  secretArn: string,
  clientRequestToken: string,
  value: StoredAccessKey,
  stage?: VersionStage,
): Promise<void> {
  try {
    await callAws({ action: 'secretsmanager:PutSecretValue', resource: onSecret(secretArn) }, (abortSignal) => secretsManager.send(new PutSecretValueCommand({
      SecretId: secretArn,
      ClientRequestToken: clientRequestToken,
      SecretString: JSON.stringify(value),
      ...(stage ? { VersionStages: [stage] } : {}),
    }), { abortSignal }));
  } catch (error) {
    throw new Error(`Could not store access key ${value.accessKeyId} in secret ${secretArn}: ${describeError(error)}`);
  }
}

/** Takes a label off a version (rotation clears AWSPENDING once the new key is current). */
export async function removeStage(secretArn: string, stage: VersionStage, versionId: string): Promise<void> {
  try {
    await callAws({ action: 'secretsmanager:UpdateSecretVersionStage', resource: onSecret(secretArn) },
      (abortSignal) => secretsManager.send(new UpdateSecretVersionStageCommand({ SecretId: secretArn, VersionStage: stage, RemoveFromVersionId: versionId }), { abortSignal }));
  } catch (error) {
    throw new Error(`Could not remove ${stage} from version ${versionId} of secret ${secretArn}: ${describeError(error)}`);
  }
}

/** Moves AWSCURRENT to a version, from the one that holds it (which becomes AWSPREVIOUS), if any. */
export async function makeCurrent(secretArn: string, versionId: string, fromVersionId: string | undefined): Promise<void> {
  try {
    await callAws({ action: 'secretsmanager:UpdateSecretVersionStage', resource: onSecret(secretArn) },
      (abortSignal) => secretsManager.send(new UpdateSecretVersionStageCommand({
        SecretId: secretArn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: versionId,
        RemoveFromVersionId: fromVersionId,
      }), { abortSignal }));
  } catch (error) {
    throw new Error(`Could not make version ${versionId} of secret ${secretArn} current: ${describeError(error)}`);
  }
}
