/** Secrets Manager's checks of request members, with the messages of its model validation. */
import { commonError } from './errors';
import type { JsonObject } from './types';

function validationError(field: string, value: unknown, constraint: string): Error {
  return commonError(
    'ValidationException',
    `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: Member must ${constraint}`,
  );
}

/** An optional string member with the model's length constraint. */
export function optionalString(input: JsonObject, member: string, min: number, max: number): string | undefined {
  const value = input[member];
  if (value === undefined) {
    return undefined;
  }
  const field = member.charAt(0).toLowerCase() + member.slice(1);
  if (typeof value !== 'string') {
    throw validationError(field, value, 'be a string');
  }
  if (value.length < min) {
    throw validationError(field, value, `have length greater than or equal to ${min}`);
  }
  if (value.length > max) {
    throw validationError(field, value, `have length less than or equal to ${max}`);
  }
  return value;
}

export function requiredString(input: JsonObject, member: string, min: number, max: number): string {
  const value = optionalString(input, member, min, max);
  if (value === undefined) {
    throw validationError(member.charAt(0).toLowerCase() + member.slice(1), null, 'not be null');
  }
  return value;
}

export function optionalStages(input: JsonObject): string[] | undefined {
  const stages = input.VersionStages;
  if (stages === undefined) {
    return undefined;
  }
  if (!Array.isArray(stages) || stages.length < 1 || stages.length > 20 || stages.some((stage) => typeof stage !== 'string')) {
    throw validationError('versionStages', JSON.stringify(stages), 'be a list of 1 to 20 strings');
  }
  return stages as string[];
}
