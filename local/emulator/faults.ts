/** Injected faults: a queue per operation, consumed in order. */
import { S3Error, ServiceError, commonError, lightsailError, secretsError } from './errors';
import { s3Fault } from './s3-protocol';
import type { FaultSpec, Place, ServiceName } from './types';

interface QueuedFault {
  readonly spec: FaultSpec;
  remaining: number;
}

function checkSpec(spec: FaultSpec): void {
  if (!spec.operation) {
    throw new Error('FaultSpec.operation is required');
  }
  const times = spec.times ?? 1;
  if (!Number.isInteger(times) || times < 1) {
    throw new Error(`FaultSpec.times must be a positive integer, got ${spec.times}`);
  }
  if (spec.hangMs !== undefined && (spec.kind !== 'hang' || spec.hangMs < 0)) {
    throw new Error('FaultSpec.hangMs must be a non-negative number, and only for kind "hang"');
  }
}

export class FaultBook {
  private readonly queues = new Map<string, QueuedFault[]>();

  add(spec: FaultSpec): void {
    checkSpec(spec);
    const queue = this.queues.get(spec.operation) ?? [];
    queue.push({ spec, remaining: spec.times ?? 1 });
    this.queues.set(spec.operation, queue);
  }

  /** The fault for this call of the operation, if one is queued; consumes one of its `times`. */
  take(operation: string): FaultSpec | undefined {
    const queue = this.queues.get(operation);
    const head = queue?.[0];
    if (!queue || !head) {
      return undefined;
    }
    head.remaining -= 1;
    if (head.remaining === 0) {
      queue.shift();
    }
    return head.spec;
  }

  clear(): void {
    this.queues.clear();
  }
}

function callerArn(place: Place): string {
  return `arn:aws:sts::${place.accountId}:assumed-role/emulator-role/emulator-session`;
}

function lightsailFault(kind: 'throttling' | 'server' | 'access-denied', operation: string, place: Place): ServiceError {
  switch (kind) {
    case 'throttling':
      return commonError('ThrottlingException', 'Rate exceeded');
    case 'server':
      return lightsailError('ServiceException', 'InternalError', 'An internal error occurred. Try again later.', 'Try again later.');
    case 'access-denied':
      return lightsailError(
        'AccessDeniedException',
        'AccessDenied',
        `User: ${callerArn(place)} is not authorized to perform: lightsail:${operation}`,
        'Check the IAM policy of the caller.',
      );
  }
}

function secretsFault(kind: 'throttling' | 'server' | 'access-denied', operation: string, place: Place, target?: string): ServiceError {
  switch (kind) {
    case 'throttling':
      return commonError('ThrottlingException', 'Rate exceeded');
    case 'server':
      return secretsError('InternalServiceError', 'An error occurred on the server side.', 500);
    case 'access-denied':
      return commonError(
        'AccessDeniedException',
        `User: ${callerArn(place)} is not authorized to perform: secretsmanager:${operation} on resource: ${target ?? '*'} ` +
        `because no identity-based policy allows the secretsmanager:${operation} action`,
      );
  }
}

/** The error answer of an injected fault (every kind but 'hang'). */
export function faultError(
  service: ServiceName,
  kind: 'throttling' | 'server' | 'access-denied',
  operation: string,
  place: Place,
  target?: string,
): ServiceError | S3Error {
  switch (service) {
    case 'lightsail':
      return lightsailFault(kind, operation, place);
    case 'secretsmanager':
      return secretsFault(kind, operation, place, target);
    case 's3':
      return s3Fault(kind);
  }
}
