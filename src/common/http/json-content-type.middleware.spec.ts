import { describe, expect, it } from '@jest/globals';
import { declaresBody, hasMediaType, isJsonMediaType, XML_BODY_MEDIA_TYPES } from './json-content-type.middleware.js';

describe('media types of request bodies', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON', true],
    ['application/merge-patch+json', true],
    ['application/vnd.opsdeck.v1+json; charset=utf-8', true],
    ['text/json', false],
    ['application/jsonp', false],
    ['application/json-seq', false],
    ['application/+json', false],
    ['text/plain', false],
    ['', false],
    [undefined, false],
  ])('%p is JSON: %p', (contentType, expected) => {
    expect(isJsonMediaType(contentType)).toBe(expected);
  });

  it('recognizes the XML types of the release-history import, parameters ignored', () => {
    expect(hasMediaType('text/xml; charset=utf-8', XML_BODY_MEDIA_TYPES)).toBe(true);
    expect(hasMediaType('APPLICATION/XML', XML_BODY_MEDIA_TYPES)).toBe(true);
    expect(hasMediaType('application/json', XML_BODY_MEDIA_TYPES)).toBe(false);
    expect(hasMediaType(undefined, XML_BODY_MEDIA_TYPES)).toBe(false);
  });

  it('takes a positive length or a chunked transfer as a body', () => {
    expect(declaresBody({ 'content-length': '12' })).toBe(true);
    expect(declaresBody({ 'transfer-encoding': 'chunked' })).toBe(true);
    expect(declaresBody({ 'content-length': '0' })).toBe(false);
    expect(declaresBody({})).toBe(false);
  });
});
