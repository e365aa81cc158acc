import { describe, expect, it } from '@jest/globals';
import ssh2 from 'ssh2';
import {
  generateSshKeyPair,
  InvalidKeyOptionsError,
  InvalidPublicKeyError,
  parsePublicKey,
  sameKeyMaterial,
} from './ssh-key-material.js';

// Generated with OpenSSH 9.2 (`ssh-keygen -t … -C …`); fingerprints from `ssh-keygen -lf`.
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIzHrVD8/8MX5lglu9Xrznnesnb8k8sAMEJDMNwPzObu vector@test';
const ED25519_FP = 'SHA256:icvXqns5435RzF7pPE4qf/bOtsupIaDlw9jAPmoaOjE';
const RSA_2048 =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCuylEk/e978Zv8c0Hs+bJgPh0vrXObqpsX9VopwWx9DdvMKYnG8ndmxzDNNhI0hhEADCFSpIjzuahoZt/41MMOrtjh5QJ2YnIGVEIbBxkDbeP1/nE8Rc1iDcDyfb1E+UO1yxZjvqrp33p23CG7SAWPpqiJmbupvPlzJmTZhkOco/cajFa+N3mG+smm83WNAAyBZ+fIYGkU97Wg2viDbSQ/HfRv022H6oYB1NYCaST7mQz6ryuJtgSjuPg8wq0k8iUpiq5oQlkouU0UXNe3oF/d3JpnpWS05vhzrqgC13Pp/ekH11nwqCW8XYk+P0/ELEN7y7lQ7hdqOa9JIyMGDHwb ops@deck';
const RSA_2048_FP = 'SHA256:E0P4MzZ4j+REKF7mvMghcPxRPGzv1oh5hnPP4X4Zyug';
const RSA_1024 =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC5kQK96XUJ3yCalvPIjV5busJi9r2pOhg4w3JIfZMvVN3Qv7Fw+Pu9HYT5sTGMb3NDiDr/V9ZnSug8r5Cb0Ew+/G3ZW3ozzGZCdgI6twxmbc3OehZacYNdk5nhHRblORBNwaNrTBCkUIKCd7mLfA8Z78nhhWg1Wdv2BTwgKxls1Q== weak';

function reasonOf(text: string): string | undefined {
  try {
    parsePublicKey(text);
    return undefined;
  } catch (err) {
    return err instanceof InvalidPublicKeyError ? err.reason : 'other';
  }
}

describe('parsePublicKey', () => {
  it('reads type, bits, comment and the ssh-keygen fingerprint', () => {
    expect(parsePublicKey(ED25519)).toMatchObject({
      wireType: 'ssh-ed25519',
      type: 'ed25519',
      bits: 256,
      comment: 'vector@test',
      fingerprint: ED25519_FP,
    });
    expect(parsePublicKey(`  ${RSA_2048}\n`)).toMatchObject({ type: 'rsa', bits: 2048, fingerprint: RSA_2048_FP });
  });

  it('compares keys by material, not comment or spacing', () => {
    const [type, base64] = RSA_2048.split(' ');
    expect(sameKeyMaterial(parsePublicKey(RSA_2048), parsePublicKey(`${type}   ${base64}`))).toBe(true);
    expect(sameKeyMaterial(parsePublicKey(RSA_2048), parsePublicKey(ED25519))).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['no key data', 'ssh-rsa'],
    ['not base64', 'ssh-ed25519 !!!notbase64'],
    ['truncated blob', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIzHrVD8'],
    ['two lines', `${ED25519}\n${ED25519}`],
    ['type differs from blob', ED25519.replace('ssh-ed25519', 'ssh-rsa')],
    ['control characters in comment', `${ED25519}\u0007`],
  ])('refuses malformed input (%s)', (_case, text) => {
    expect(reasonOf(text)).toMatch(/malformed|unsupported_type/);
  });

  it('refuses unsupported types and RSA below 2048 bits', () => {
    expect(reasonOf('ssh-dss AAAAB3NzaC1kc3MAAACBAPlHIP5sD')).toBe('unsupported_type');
    expect(reasonOf(RSA_1024)).toBe('too_weak');
  });
});

describe('generateSshKeyPair', () => {
  it.each([
    [{ type: 'ed25519' as const }, 'ed25519', 256],
    [{ type: 'ecdsa' as const }, 'ecdsa', 256],
    [{ type: 'ecdsa' as const, bits: 384 }, 'ecdsa', 384],
    [{ type: 'rsa' as const, bits: 2048 }, 'rsa', 2048],
  ])('makes an OpenSSH pair %j', async (options, type, bits) => {
    const pair = await generateSshKeyPair({ ...options, comment: 'opsdeck@test' });
    expect(pair).toMatchObject({ type, bits });
    expect(pair.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(pair.publicKey).toMatch(/ opsdeck@test$/);
    const parsed = parsePublicKey(pair.publicKey);
    expect(parsed.fingerprint).toBe(pair.fingerprint);
    // The private half belongs to the public half.
    const priv = ssh2.utils.parseKey(pair.privateKey) as ssh2.ParsedKey;
    expect(priv.getPublicSSH().equals(parsed.blob)).toBe(true);
  });

  it('makes every ed25519 pair whole, though ssh2 drops the leading zero bytes of about one key in 256', async () => {
    // 1024 pairs meet such a key with a probability of 98%.
    for (let pair = 0; pair < 1024; pair += 1) {
      const generated = await generateSshKeyPair({ type: 'ed25519' });
      expect(parsePublicKey(generated.publicKey).blob).toHaveLength(51);
    }
  });

  it('defaults RSA to 4096 bits', async () => {
    const pair = await generateSshKeyPair({ type: 'rsa' });
    expect(pair.bits).toBe(4096);
  });

  it('refuses sizes outside the allowed sets and unprintable comments', async () => {
    await expect(generateSshKeyPair({ type: 'rsa', bits: 1024 })).rejects.toBeInstanceOf(InvalidKeyOptionsError);
    await expect(generateSshKeyPair({ type: 'ecdsa', bits: 512 })).rejects.toBeInstanceOf(InvalidKeyOptionsError);
    await expect(generateSshKeyPair({ type: 'ed25519', comment: 'a\nb' })).rejects.toBeInstanceOf(InvalidKeyOptionsError);
  });
});
