import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/config.schema.js';
import { InjectConfig } from '../../config/config.module.js';
import { InjectLogger } from '../logging/logging.module.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_FILE = 'secrets-master.key';

/**
 * Secrets at rest (iDRAC passwords): AES-256-GCM under SECRETS_MASTER_KEY, stored as `v1:<base64 iv|tag|data>`.
 * Each value is bound to its purpose (the additional data), so a ciphertext cannot be moved to another field.
 */
@Injectable()
export class SecretBox {
  private key: Buffer | null = null;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  seal(plaintext: string, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey(), iv);
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64')}`;
  }

  open(sealed: string, purpose: string): string {
    const [version, payload] = sealed.split(':', 2);
    if (version !== VERSION || !payload) throw new Error('unrecognised sealed secret');
    const raw = Buffer.from(payload, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey(), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(purpose, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  private masterKey(): Buffer {
    this.key ??= this.loadKey();
    return this.key;
  }

  /** SECRETS_MASTER_KEY, or one generated once into DATA_DIR (mode 0600) for development. */
  private loadKey(): Buffer {
    const configured = this.config.secrets.master_key;
    if (configured) return decodeKey(configured);
    const dataDir = resolve(this.config.data_dir);
    const path = join(dataDir, KEY_FILE);
    if (!existsSync(path)) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
      if (this.config.app.env === 'production') {
        this.logger.warn({ path }, 'SECRETS_MASTER_KEY is not set; generated one into DATA_DIR (back it up, or set the variable)');
      }
    }
    chmodSync(path, 0o600);
    return decodeKey(readFileSync(path, 'utf8').trim());
  }
}

function decodeKey(text: string): Buffer {
  const key = /^[A-Fa-f0-9]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error('the secrets master key must be 32 bytes');
  return key;
}
