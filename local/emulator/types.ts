/** Shared types of the local AWS emulator (Lightsail + Secrets Manager, awsJson1_1; S3, REST-XML). */

export type ServiceName = 'lightsail' | 'secretsmanager' | 's3';

export type FaultKind = 'throttling' | 'server' | 'access-denied' | 'hang';

export interface FaultSpec {
  /** e.g. 'CreateBucketAccessKey', 'PutSecretValue' (the operation name from X-Amz-Target), 'ListObjectsV2'. */
  readonly operation: string;
  /** How many of the next calls of that operation fail. Default 1. */
  readonly times?: number;
  /**
   * 'throttling': 400 ThrottlingException (retried by the SDK as throttling); S3: 503 SlowDown;
   * 'server': 500 ServiceException (Lightsail) / InternalServiceError (Secrets Manager) / InternalError (S3);
   * 'access-denied': AccessDeniedException (Lightsail 403, Secrets Manager 400); S3: 403 AccessDenied;
   * 'hang': the request is accepted and never answered, until stop() or `hangMs` passes.
   */
  readonly kind: FaultKind;
  /** For 'hang': answer normally after this many milliseconds. Default: never. */
  readonly hangMs?: number;
  /** Apply the fault after the operation has taken effect (the response is lost). Default false. */
  readonly afterEffect?: boolean;
}

export interface EmulatorCall {
  readonly service: ServiceName;
  readonly operation: string;
  /** HTTP status of the answer; 0 for a request that was left hanging. */
  readonly status: number;
  /** Bucket name or secret id from the request (S3: the bucket of the path or Host). */
  readonly target?: string;
}

export interface EmulatorOptions {
  readonly region?: string;
  readonly accountId?: string;
  /**
   * Answer Lightsail "not found" the way older SDKs surfaced it: a body with `code: 'DoesNotExist'`
   * and no `__type`, so the SDK throws its base LightsailServiceException. Default false.
   */
  readonly legacyNotFound?: boolean;
}

/** The rotation configuration DescribeSecret reports (RotateSecret's RotationLambdaARN and RotationRules). */
export interface RotationOptions {
  /** Default: arn:aws:lambda:REGION:ACCOUNT:function:emulator-rotation. */
  readonly rotationLambdaArn?: string;
  /** Default 30. */
  readonly automaticallyAfterDays?: number;
}

/** A decoded JSON request or response body. */
export type JsonObject = Record<string, unknown>;

/** Where an emulated resource lives. */
export interface Place {
  readonly region: string;
  readonly accountId: string;
}
