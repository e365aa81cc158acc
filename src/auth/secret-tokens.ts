import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'odk_';
export const BOOTSTRAP_TOKEN_PREFIX = 'odt_';
/** How much of a key is kept in clear to tell keys apart in lists and the audit log. */
export const VISIBLE_KEY_LENGTH = 12;

/** A prefix plus 32 random bytes, base64url: 47 characters. */
export function generateSecretToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function sameDigest(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
