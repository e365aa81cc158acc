import { describe, expect, it } from '@jest/globals';
import { normalizeSiteUrl } from './site-url.js';

describe('normalizeSiteUrl', () => {
  it.each([
    ['HTTPS://Example.ORG/', 'https://example.org'],
    ['https://example.org:443', 'https://example.org'],
    ['http://example.org:80/', 'http://example.org'],
    ['http://example.org:8080/drupal/', 'http://example.org:8080/drupal'],
    ['https://example.org/Sub/Path//', 'https://example.org/Sub/Path'],
    ['https://example.org/?q=1#top', 'https://example.org'],
    ['  https://example.org  ', 'https://example.org'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example'],
    ['https://[::1]:8443/', 'https://[::1]:8443'],
  ])('normalizes %s to %s', (input, expected) => {
    expect(normalizeSiteUrl(input)).toBe(expected);
  });

  it.each([
    ['not a url'],
    ['ftp://example.org'],
    ['javascript:alert(1)'],
    ['https://user:secret@example.org'],
    ['/relative/path'],
    ['file:///etc/passwd'],
  ])('refuses %s', (input) => {
    expect(normalizeSiteUrl(input)).toBeNull();
  });
});
