const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000', // connection_exception
  '08003', // connection_does_not_exist
  '08006', // connection_failure
]);

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection is not established',
];

/** True when an error means "the database cannot be reached", as opposed to a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, driverError } = error as { code?: unknown; message?: unknown; driverError?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((text) => message.includes(text))) return true;
  return driverError !== undefined && driverError !== error && isDatabaseUnavailable(driverError);
}

/** The 409 each live-uniqueness index stands for, so a request that loses a race gets the same answer as one that lost the pre-check. */
const UNIQUE_CONSTRAINT_CONFLICTS: Readonly<Record<string, { code: string; field: string; message: string }>> = {
  organizations_live_name_key: {
    code: 'ORGANIZATION.NAME_TAKEN',
    field: 'name',
    message: 'An organization with this name already exists',
  },
  users_live_email_key: { code: 'USER.EMAIL_TAKEN', field: 'email', message: 'A user with this email already exists' },
  sites_live_url_key: { code: 'SITE.URL_TAKEN', field: 'url', message: 'A site with this URL already exists' },
};

/** For a unique violation of a known index: the conflict it means; otherwise null. */
export function uniqueViolationConflict(error: unknown): { code: string; field: string; message: string } | null {
  if (typeof error !== 'object' || error === null) return null;
  const { code, constraint, driverError } = error as { code?: unknown; constraint?: unknown; driverError?: unknown };
  if (code === '23505' && typeof constraint === 'string') return UNIQUE_CONSTRAINT_CONFLICTS[constraint] ?? null;
  return driverError !== undefined && driverError !== error ? uniqueViolationConflict(driverError) : null;
}
