import { describe, expect, it } from '@jest/globals';
import { uniquenessRuleOfIndex } from '../common/errors/uniqueness.js';
import { isDatabaseUnavailable, violatedUniqueIndex } from './database-errors.js';

function errorWithCode(code: string, message = 'driver error'): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

describe('isDatabaseUnavailable', () => {
  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'EPIPE',
    'ENOTFOUND',
    'EHOSTUNREACH',
    '57P01',
    '57P02',
    '57P03',
    '08000',
    '08003',
    '08006',
  ])('recognises connection code %s', (code) => {
    expect(isDatabaseUnavailable(errorWithCode(code))).toBe(true);
  });

  it.each([
    ['unique violation', '23505'],
    ['syntax error', '42601'],
    ['undefined table', '42P01'],
    ['statement timeout (a slow query, not a dead database)', '57014'],
    ['file not found', 'ENOENT'],
  ])('does not treat %s (%s) as unavailability', (_label, code) => {
    expect(isDatabaseUnavailable(errorWithCode(code))).toBe(false);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
    'Connection is not established with mysql database',
  ])('recognises the message %p without a code', (message) => {
    expect(isDatabaseUnavailable(new Error(message))).toBe(true);
  });

  it('does not treat an ordinary query error message as unavailability', () => {
    expect(isDatabaseUnavailable(new Error('relation "sites" does not exist'))).toBe(false);
  });

  it('accepts plain objects, not only Error instances', () => {
    expect(isDatabaseUnavailable({ code: 'ECONNREFUSED' })).toBe(true);
    expect(isDatabaseUnavailable({ message: 'Connection terminated' })).toBe(true);
  });

  it('looks inside driverError, as TypeORM wraps the pg error in a QueryFailedError', () => {
    const wrapped = Object.assign(new Error('QueryFailedError: connect ECONNREFUSED'), {
      code: undefined,
      driverError: errorWithCode('ECONNREFUSED'),
    });

    expect(isDatabaseUnavailable(wrapped)).toBe(true);
  });

  it('follows several levels of driverError', () => {
    const innermost = errorWithCode('57P01', 'terminating connection due to administrator command');

    expect(isDatabaseUnavailable({ driverError: { driverError: innermost } })).toBe(true);
  });

  it('is false when the wrapped driverError is an ordinary query error', () => {
    expect(isDatabaseUnavailable({ message: 'query failed', driverError: errorWithCode('23505') })).toBe(false);
  });

  it('does not loop forever when driverError points back at the error', () => {
    const selfReferencing: { message: string; driverError?: unknown } = { message: 'odd' };
    selfReferencing.driverError = selfReferencing;

    expect(isDatabaseUnavailable(selfReferencing)).toBe(false);
  });

  it('ignores a code that is not a string', () => {
    expect(isDatabaseUnavailable({ code: 8006 })).toBe(false);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string naming a code', 'ECONNREFUSED'],
    ['a string with a matching message', 'Connection terminated'],
    ['a number', 57],
    ['a boolean', true],
  ])('is false for %s', (_label, value) => {
    expect(isDatabaseUnavailable(value)).toBe(false);
  });
});

describe('violatedUniqueIndex', () => {
  it('names the index of a unique violation, also when TypeORM wraps the driver error', () => {
    const driverError = Object.assign(new Error('duplicate key'), { code: '23505', constraint: 'sites_live_url_key' });
    expect(violatedUniqueIndex(driverError)).toBe('sites_live_url_key');
    expect(violatedUniqueIndex({ message: 'query failed', driverError })).toBe('sites_live_url_key');
  });

  it('is null for other errors', () => {
    expect(violatedUniqueIndex(Object.assign(new Error('x'), { code: '23503', constraint: 'sites_live_url_key' }))).toBeNull();
    expect(violatedUniqueIndex(null)).toBeNull();
  });
});

describe('uniquenessRuleOfIndex', () => {
  it('maps each live-uniqueness index to its 409 and leaves unknown indexes alone', () => {
    expect(uniquenessRuleOfIndex('sites_live_url_key')).toMatchObject({ code: 'SITE.URL_TAKEN', field: 'url' });
    expect(uniquenessRuleOfIndex('users_live_email_key')).toMatchObject({ code: 'USER.EMAIL_TAKEN', field: 'email' });
    expect(uniquenessRuleOfIndex('something_else')).toBeNull();
  });
});
