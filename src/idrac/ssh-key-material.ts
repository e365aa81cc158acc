import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';

/**
 * SSH key material without I/O: key-pair generation (OpenSSH formats), SHA256 fingerprints as
 * `ssh-keygen -l` prints them, and parsing/validation of OpenSSH public keys. Keys are compared by their
 * decoded blob (type + key material), never by text or comment.
 */

export type SshKeyType = 'rsa' | 'ed25519' | 'ecdsa';
export const SSH_KEY_TYPES: readonly SshKeyType[] = ['rsa', 'ed25519', 'ecdsa'];
export const RSA_KEY_BITS = [2048, 3072, 4096] as const;
export type RsaKeyBits = (typeof RSA_KEY_BITS)[number];
export const DEFAULT_RSA_KEY_BITS: RsaKeyBits = 4096;
export const ECDSA_KEY_BITS = [256, 384, 521] as const;
export type EcdsaKeyBits = (typeof ECDSA_KEY_BITS)[number];
export const DEFAULT_ECDSA_KEY_BITS: EcdsaKeyBits = 256;
/** DESIGN.md §6: never below 2048 bits for RSA. */
export const MIN_RSA_KEY_BITS = 2048;

/** The wire names (RFC 4253 / 5656 / 8709) this service accepts. */
const SUPPORTED_WIRE_TYPES = new Set([
  'ssh-rsa',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
]);

export interface GenerateSshKeyPairOptions {
  readonly type: SshKeyType;
  /** RSA: 2048 | 3072 | 4096 (default 4096); ECDSA: 256 | 384 | 521 (default 256); ignored for ed25519. */
  readonly bits?: number;
  /** Appended to the public key line; must be printable and on one line. */
  readonly comment?: string;
}

export interface GeneratedSshKeyPair {
  readonly type: SshKeyType;
  readonly bits: number;
  /** One OpenSSH line: `ssh-rsa AAAA… comment`. */
  readonly publicKey: string;
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` PEM, unencrypted: the caller stores it 0600. */
  readonly privateKey: string;
  readonly fingerprint: string;
}

export interface ParsedPublicKey {
  /** Wire type from the blob, e.g. `ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-nistp256`. */
  readonly wireType: string;
  readonly type: SshKeyType;
  readonly bits: number;
  readonly blob: Buffer;
  readonly comment: string | null;
  readonly fingerprint: string;
  /** `type base64` without comment: the canonical text of the key material. */
  readonly canonical: string;
}

export type InvalidPublicKeyReason = 'malformed' | 'unsupported_type' | 'too_weak';

export class InvalidPublicKeyError extends Error {
  override readonly name = 'InvalidPublicKeyError';
  constructor(
    readonly reason: InvalidPublicKeyReason,
    message: string,
  ) {
    super(message);
  }
}

export class InvalidKeyOptionsError extends Error {
  override readonly name = 'InvalidKeyOptionsError';
}

/** `SHA256:` + unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -l -E sha256` prints it. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * ssh2 drops leading zero bytes from an ed25519 public key (a fixed 32-byte string, not a number), so about one pair
 * in 256 comes out with a 31-byte key in both halves; such a pair is discarded and made again.
 */
const MAX_ED25519_ATTEMPTS = 8;

export async function generateSshKeyPair(options: GenerateSshKeyPairOptions): Promise<GeneratedSshKeyPair> {
  const comment = options.comment ?? '';
  if (!/^[\x20-\x7e]*$/.test(comment)) throw new InvalidKeyOptionsError('comment must be printable ASCII on one line');
  for (let attempt = 1; ; attempt += 1) {
    const pair = await generateWithSsh2(options, comment);
    let parsed: ParsedPublicKey;
    try {
      parsed = parsePublicKey(pair.public);
    } catch (error) {
      if (options.type === 'ed25519' && attempt < MAX_ED25519_ATTEMPTS) continue;
      throw error;
    }
    return {
      type: parsed.type,
      bits: parsed.bits,
      publicKey: pair.public.trim(),
      privateKey: pair.private,
      fingerprint: parsed.fingerprint,
    };
  }
}

function generateWithSsh2(options: GenerateSshKeyPairOptions, comment: string): Promise<ssh2.utils.KeyPairReturn> {
  return new Promise<ssh2.utils.KeyPairReturn>((resolve, reject) => {
    const done = (err: Error | null, keys: ssh2.utils.KeyPairReturn): void => (err ? reject(err) : resolve(keys));
    switch (options.type) {
      case 'rsa': {
        const bits = options.bits ?? DEFAULT_RSA_KEY_BITS;
        if (!(RSA_KEY_BITS as readonly number[]).includes(bits)) {
          throw new InvalidKeyOptionsError(`RSA keys are ${RSA_KEY_BITS.join(', ')} bits`);
        }
        ssh2.utils.generateKeyPair('rsa', { bits, comment }, done);
        return;
      }
      case 'ecdsa': {
        const bits = options.bits ?? DEFAULT_ECDSA_KEY_BITS;
        if (!(ECDSA_KEY_BITS as readonly number[]).includes(bits)) {
          throw new InvalidKeyOptionsError(`ECDSA keys are ${ECDSA_KEY_BITS.join(', ')} bits`);
        }
        ssh2.utils.generateKeyPair('ecdsa', { bits: bits as EcdsaKeyBits, comment }, done);
        return;
      }
      case 'ed25519':
        ssh2.utils.generateKeyPair('ed25519', { comment }, done);
        return;
    }
  });
}

/**
 * Parses one OpenSSH public key line (`type base64 [comment]`). Malformed text, an unsupported type, a blob
 * whose type differs from the text, or RSA below 2048 bits throw InvalidPublicKeyError.
 */
export function parsePublicKey(text: string): ParsedPublicKey {
  if (typeof text !== 'string') throw new InvalidPublicKeyError('malformed', 'public key must be a string');
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > 16_384) {
    throw new InvalidPublicKeyError('malformed', 'public key is empty or too long');
  }
  if (/[\r\n\0]/.test(trimmed)) throw new InvalidPublicKeyError('malformed', 'public key must be one line');
  const match = /^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$/.exec(trimmed);
  if (!match) throw new InvalidPublicKeyError('malformed', 'expected "<type> <base64> [comment]"');
  const [, textType, base64, comment] = match;
  if (!SUPPORTED_WIRE_TYPES.has(textType)) {
    throw new InvalidPublicKeyError('unsupported_type', `unsupported key type ${textType.slice(0, 40)}`);
  }
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64').replace(/=+$/, '') !== base64.replace(/=+$/, '')) {
    throw new InvalidPublicKeyError('malformed', 'key data is not valid base64');
  }
  const info = describeKeyBlob(blob);
  if (!info) throw new InvalidPublicKeyError('malformed', 'key data is not a valid SSH public key');
  if (info.wireType !== textType) {
    throw new InvalidPublicKeyError('malformed', `key data is ${info.wireType}, text says ${textType}`);
  }
  if (info.type === 'rsa' && info.bits < MIN_RSA_KEY_BITS) {
    throw new InvalidPublicKeyError('too_weak', `RSA keys need at least ${MIN_RSA_KEY_BITS} bits (got ${info.bits})`);
  }
  if (comment !== undefined && /[^\x20-\x7e]/.test(comment)) {
    throw new InvalidPublicKeyError('malformed', 'comment must be printable ASCII');
  }
  return {
    wireType: info.wireType,
    type: info.type,
    bits: info.bits,
    blob,
    comment: comment?.trim() || null,
    fingerprint: sshFingerprint(blob),
    canonical: `${info.wireType} ${blob.toString('base64')}`,
  };
}

export interface KeyBlobInfo {
  readonly wireType: string;
  readonly type: SshKeyType;
  readonly bits: number;
}

/**
 * Decodes an SSH public key blob (a sequence of length-prefixed strings) of a supported type; null unless
 * the blob is complete and exactly consumed. The racadm parser relies on this to find where wrapped base64
 * ends and the comment begins.
 */
export function describeKeyBlob(blob: Buffer): KeyBlobInfo | null {
  const fields = readSshStrings(blob);
  if (!fields || fields.length === 0) return null;
  const wireType = fields[0].toString('latin1');
  switch (wireType) {
    case 'ssh-rsa': {
      if (fields.length !== 3) return null;
      const [, e, n] = fields;
      if (e.length === 0 || n.length === 0 || (e[e.length - 1] & 1) === 0) return null;
      return { wireType, type: 'rsa', bits: mpintBits(n) };
    }
    case 'ssh-ed25519':
      return fields.length === 2 && fields[1].length === 32 ? { wireType, type: 'ed25519', bits: 256 } : null;
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const curve = wireType.slice('ecdsa-sha2-'.length);
      if (fields.length !== 3 || fields[1].toString('latin1') !== curve) return null;
      const bits = Number(curve.slice('nistp'.length));
      const coordinateBytes = Math.ceil(bits / 8);
      const point = fields[2];
      if (point.length !== 1 + 2 * coordinateBytes || point[0] !== 0x04) return null;
      return { wireType, type: 'ecdsa', bits };
    }
    default:
      return null;
  }
}

/** True when both texts hold the same key material (type and blob), whatever their comments. */
export function sameKeyMaterial(a: ParsedPublicKey, b: ParsedPublicKey): boolean {
  return a.blob.equals(b.blob);
}

function readSshStrings(blob: Buffer): Buffer[] | null {
  const fields: Buffer[] = [];
  let offset = 0;
  while (offset < blob.length) {
    if (offset + 4 > blob.length || fields.length > 8) return null;
    const length = blob.readUInt32BE(offset);
    offset += 4;
    if (offset + length > blob.length) return null;
    fields.push(blob.subarray(offset, offset + length));
    offset += length;
  }
  return fields;
}

function mpintBits(mpint: Buffer): number {
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  if (i === mpint.length) return 0;
  return (mpint.length - i - 1) * 8 + (32 - Math.clz32(mpint[i]));
}
