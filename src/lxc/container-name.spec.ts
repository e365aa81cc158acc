import { describe, expect, it } from '@jest/globals';
import {
  CONTAINER_NAME_PATTERN,
  isIPv4Address,
  isIPv4Cidr,
  isUserName,
  normalizeSshPublicKey,
  parseImage,
} from './container-name.js';

const HOSTILE_NAMES = [
  '',
  'has space',
  'a/b',
  '../etc',
  '..',
  '$(reboot)',
  'a;rm -rf /',
  'a`id`',
  'a\nb',
  '-n',
  '--help',
  'a'.repeat(64),
  'é',
  'a|b',
  "a'b",
];

describe('container names', () => {
  it.each(['a', 'web-1', 'db_2.prod', 'A9', 'a'.repeat(63)])('accepts %p', (name) => {
    expect(CONTAINER_NAME_PATTERN.test(name)).toBe(true);
  });

  it.each(HOSTILE_NAMES)('refuses %p', (name) => {
    expect(CONTAINER_NAME_PATTERN.test(name)).toBe(false);
  });
});

describe('images, users and addresses', () => {
  it('splits distro:release', () => {
    expect(parseImage('debian:bookworm')).toEqual({ distro: 'debian', release: 'bookworm' });
    expect(parseImage('ubuntu:24.04')).toEqual({ distro: 'ubuntu', release: '24.04' });
    expect(parseImage('busybox')).toBeNull();
    expect(parseImage('debian:-x')).toBeNull();
    expect(parseImage('debian:book worm')).toBeNull();
  });

  it('checks user names', () => {
    expect(isUserName('root')).toBe(true);
    expect(isUserName('deploy-1')).toBe(true);
    expect(isUserName('Root')).toBe(false);
    expect(isUserName('-r')).toBe(false);
    expect(isUserName('a b')).toBe(false);
  });

  it('checks IPv4 addresses and host addresses with a prefix', () => {
    expect(isIPv4Address('10.0.3.7')).toBe(true);
    expect(isIPv4Address('010.0.3.7')).toBe(false);
    expect(isIPv4Address('256.0.0.1')).toBe(false);
    expect(isIPv4Cidr('10.0.3.7/24')).toBe(true);
    expect(isIPv4Cidr('10.0.3.7/32')).toBe(true);
    expect(isIPv4Cidr('10.0.3.0/24')).toBe(false);
    expect(isIPv4Cidr('10.0.3.255/24')).toBe(false);
    expect(isIPv4Cidr('10.0.3.7')).toBe(false);
    expect(isIPv4Cidr('10.0.3.7/33')).toBe(false);
    expect(isIPv4Cidr('10.0.3.7/4')).toBe(false);
  });

  it('normalizes SSH public keys and refuses options, quotes and control characters', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJMMqBqF3ZiDepnDjcjw3PlVAtcGadLG5PkuUk1UHIbZ';
    expect(normalizeSshPublicKey(`  ${key}   ops@example  `)).toBe(`${key} ops@example`);
    expect(normalizeSshPublicKey(key)).toBe(key);
    expect(normalizeSshPublicKey(`command="id" ${key}`)).toBeNull();
    expect(normalizeSshPublicKey(`${key} $(reboot)`)).toBeNull();
    expect(normalizeSshPublicKey(`${key} a\nssh-rsa AAAA`)).toBeNull();
    expect(normalizeSshPublicKey('ssh-dss AAAAB3NzaC1kc3MAAACBAP')).toBeNull();
  });
});
