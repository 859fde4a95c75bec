/**
 * Error answers in the shapes the real services use (awsJson1_1: `__type` names the error).
 *
 * Lightsail errors carry `code`, `docs`, `message` and `tip`; their HTTP status codes follow the
 * `httpError` traits of the Lightsail model shipped with @aws-sdk/client-lightsail.
 * Secrets Manager's modelled errors carry `Message` (capital M) and have no `httpError` trait, so
 * they are 400 (client) or 500 (server). Errors common to all AWS services (throttling, access
 * denied, validation, authentication) carry a lower-case `message`.
 * S3 (REST-XML) answers `<Error><Code>…</Code><Message>…</Message>…</Error>`: see S3Error.
 */
import type { JsonObject } from './types';

/** An error answer: thrown by operations, turned into an HTTP response by the server. */
export class ServiceError extends Error {
  constructor(readonly status: number, readonly body: JsonObject) {
    super(typeof body.message === 'string' ? body.message : String(body.Message ?? body.__type));
  }
}

/** HTTP status codes of Lightsail's errors, from the model's `httpError` traits. */
export const LIGHTSAIL_STATUS = {
  AccessDeniedException: 403,
  InvalidInputException: 400,
  NotFoundException: 404,
  ServiceException: 500,
  UnauthenticatedException: 401,
} as const;

export type LightsailErrorType = keyof typeof LIGHTSAIL_STATUS;

const LIGHTSAIL_DOCS = 'https://lightsail.aws.amazon.com/ls/docs/en_us/articles/amazon-lightsail-creating-bucket-access-keys';

export function lightsailError(type: LightsailErrorType, code: string, message: string, tip: string): ServiceError {
  return new ServiceError(LIGHTSAIL_STATUS[type], { __type: type, code, docs: LIGHTSAIL_DOCS, message, tip });
}

/** Lightsail's "not found"; `legacy` drops `__type`, as older SDKs effectively saw it. */
export function lightsailNotFound(message: string, legacy: boolean): ServiceError {
  const error = lightsailError('NotFoundException', 'DoesNotExist', message, 'Check the name of the resource and the AWS Region.');
  if (!legacy) {
    return error;
  }
  const { __type: _omitted, ...rest } = error.body;
  return new ServiceError(error.status, rest);
}

export function lightsailInvalidInput(message: string): ServiceError {
  return lightsailError('InvalidInputException', 'InvalidInput', message, 'Check the input parameters and try again.');
}

/** A modelled Secrets Manager error (`ResourceNotFoundException`, `InvalidRequestException`...). */
export function secretsError(type: string, message: string, status = 400): ServiceError {
  return new ServiceError(status, { __type: type, Message: message });
}

/** An error common to all AWS services, raised before the service's own code runs. */
export function commonError(type: string, message: string, status = 400): ServiceError {
  return new ServiceError(status, { __type: type, message });
}

/** The answer to a malformed request body or an unknown target. */
export function protocolError(message: string): ServiceError {
  return commonError('SerializationException', message);
}

/** An S3 error answer: its code, message and the extra elements S3 adds (BucketName, AWSAccessKeyId...). */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}
