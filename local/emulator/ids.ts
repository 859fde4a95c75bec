/** Random identifiers in the formats AWS uses. */
import { randomBytes, randomUUID } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomChars(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let text = '';
  for (const byte of bytes) {
    text += alphabet[byte % alphabet.length];
  }
  return text;
}

/** 'AKIA' + 16 upper-case base32 characters, 20 in all. */
export function newAccessKeyId(): string {
  return `AKIA${randomChars(BASE32, 16)}`;
}

/** 40 base64 characters, like an IAM secret access key. */
export function newSecretAccessKey(): string {
  return randomChars(BASE64, 40);
}

/** The 6 random characters Secrets Manager appends to a secret's name in its ARN. */
export function newSecretArnSuffix(): string {
  return randomChars(ALPHANUMERIC, 6);
}

export function newUuid(): string {
  return randomUUID();
}

/** awsJson timestamps: epoch seconds, with milliseconds as the fraction. */
export function epochSeconds(date: Date = new Date()): number {
  return date.getTime() / 1000;
}
