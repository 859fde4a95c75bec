/**
 * Synth-time checks of the construct's props. Each returns the problems it found, as sentences
 * that name the prop and the rule; tokens are left to deploy time.
 */

import { Duration, Token } from 'aws-cdk-lib';

const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{1,52}[a-z0-9]$/;
const RESERVED_BUCKET_NAME_PREFIXES = ['amzn-s3-demo-', 'sthree-'];
const RESERVED_BUCKET_NAME_SUFFIXES = ['-s3alias'];
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/;
const SECRET_NAME_MAX_LENGTH = 512;

export function bucketNameProblems(bucketName: string): string[] {
  const problems: string[] = [];
  if (bucketName.length < 3 || bucketName.length > 54) {
    problems.push(`must be 3 to 54 characters long (it has ${bucketName.length})`);
  }
  if (!BUCKET_NAME_PATTERN.test(bucketName)) {
    problems.push('must use only lowercase letters, digits and hyphens, and start and end with a letter or digit');
  }
  if (bucketName.includes('--')) {
    problems.push('must not contain two hyphens in a row');
  }
  for (const prefix of RESERVED_BUCKET_NAME_PREFIXES.filter((reserved) => bucketName.startsWith(reserved))) {
    problems.push(`must not start with the reserved prefix "${prefix}"`);
  }
  for (const suffix of RESERVED_BUCKET_NAME_SUFFIXES.filter((reserved) => bucketName.endsWith(reserved))) {
    problems.push(`must not end with the reserved suffix "${suffix}"`);
  }
  return problems;
}

export function serialProblems(serial: number): string[] {
  return Number.isSafeInteger(serial) && serial >= 0 ? [] : [`must be a non-negative integer (got ${serial})`];
}

export function secretNameProblems(secretName: string): string[] {
  const problems: string[] = [];
  if (secretName.length < 1 || secretName.length > SECRET_NAME_MAX_LENGTH) {
    problems.push(`must be 1 to ${SECRET_NAME_MAX_LENGTH} characters long (it has ${secretName.length})`);
  }
  if (!SECRET_NAME_PATTERN.test(secretName)) {
    problems.push('must use only letters, digits and the characters /_+=.@-');
  }
  return problems;
}

/** Sentences naming what is wrong with `rotation.automaticallyAfter`; none for a valid period. */
export function rotationPeriodProblems(period: Duration): string[] {
  if (Token.isUnresolved(period.toString())) {
    return [];
  }
  const hours = period.toHours({ integral: false });
  if (hours < 24) {
    return Number.isInteger(hours) && hours >= 4 ? [] : [`must be 4 to 23 whole hours, or whole days (got ${period.toHumanString()})`];
  }
  const days = hours / 24;
  return Number.isInteger(days) && days <= 1000 ? [] : [`must be 1 to 1000 whole days, or 4 to 23 hours (got ${period.toHumanString()})`];
}
