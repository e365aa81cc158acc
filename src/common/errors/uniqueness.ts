import type { AppError } from './app-error.js';
import { Errors } from './errors.js';

interface Uniqueness {
  /** The partial unique index that enforces it among live rows. */
  readonly index: string;
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

/**
 * The "already exists" rules: services check them before writing, and the exception filter maps a violation
 * of the index (a request that lost the race to the pre-check) to the same 409.
 */
export const UNIQUENESS = {
  organizationName: {
    index: 'organizations_live_name_key',
    code: 'ORGANIZATION.NAME_TAKEN',
    field: 'name',
    message: 'An organization with this name already exists',
  },
  userEmail: {
    index: 'users_live_email_key',
    code: 'USER.EMAIL_TAKEN',
    field: 'email',
    message: 'A user with this email already exists',
  },
  siteUrl: { index: 'sites_live_url_key', code: 'SITE.URL_TAKEN', field: 'url', message: 'A site with this URL already exists' },
} as const satisfies Record<string, Uniqueness>;

export function uniquenessConflict(rule: Uniqueness): AppError {
  return Errors.conflict(rule.code, rule.field, rule.message);
}

const BY_INDEX: ReadonlyMap<string, Uniqueness> = new Map(Object.values(UNIQUENESS).map((rule) => [rule.index, rule]));

export function uniquenessRuleOfIndex(index: string): Uniqueness | null {
  return BY_INDEX.get(index) ?? null;
}
