import { describe, expect, it } from '@jest/globals';
import { resolveRequestId } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('resolveRequestId', () => {
  it.each(['abc', 'trace-abc.123', 'span:01HZX_9', '0f8fad5b-d9cb-469f-a165-70867728950e', 'x'.repeat(128)])(
    'keeps the sane id %p',
    (id) => {
      expect(resolveRequestId(id)).toBe(id);
    },
  );

  it('generates a UUID when there is no header', () => {
    expect(resolveRequestId(undefined)).toMatch(UUID);
  });

  it('generates a different id each time', () => {
    expect(resolveRequestId(undefined)).not.toBe(resolveRequestId(undefined));
  });

  it.each([
    ['empty', ''],
    ['longer than 128 characters', 'x'.repeat(129)],
    ['with a space', 'abc def'],
    ['with a double quote', 'abc"def'],
    ['with a single quote', "abc'def"],
    ['with a newline', 'abc\ndef'],
    ['with a trailing newline', 'abc\n'],
    ['with a carriage return and a forged header', 'abc\r\nSet-Cookie: a=b'],
    ['with a tab', 'abc\tdef'],
    ['with HTML', '<script>'],
    ['with a slash', '../etc/passwd'],
    ['with non-ASCII letters', 'réquest'],
  ])('replaces an id %s', (_label, id) => {
    const resolved = resolveRequestId(id);

    expect(resolved).not.toBe(id);
    expect(resolved).toMatch(UUID);
  });

  it('takes the first of repeated headers', () => {
    expect(resolveRequestId(['first-id', 'second-id'])).toBe('first-id');
  });

  it('replaces an insane first value of repeated headers rather than falling back to the second', () => {
    const resolved = resolveRequestId(['bad id', 'second-id']);

    expect(resolved).toMatch(UUID);
  });

  it('generates an id for an empty list of headers', () => {
    expect(resolveRequestId([])).toMatch(UUID);
  });
});
