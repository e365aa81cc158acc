import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { AppConfig } from '../../config/config.schema.js';
import { SecretBox } from './secret-box.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function box(masterKey: string | null): { box: SecretBox; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'secret-box-'));
  dirs.push(dataDir);
  const config = { data_dir: dataDir, secrets: { master_key: masterKey }, app: { env: 'test' } } as unknown as AppConfig;
  return { box: new SecretBox(config, pino({ level: 'silent' })), dataDir };
}

describe('SecretBox', () => {
  it('round-trips, never stores the plaintext, and uses a fresh IV each time', () => {
    const { box: secrets } = box('ab'.repeat(32));
    const first = secrets.seal('calvin-password', 'idrac-server-password');
    const second = secrets.seal('calvin-password', 'idrac-server-password');
    expect(first).toMatch(/^v1:[A-Za-z0-9+/]+=*$/);
    expect(first).not.toContain('calvin');
    expect(first).not.toBe(second);
    expect(secrets.open(first, 'idrac-server-password')).toBe('calvin-password');
  });

  it('refuses a tampered value, another purpose or another master key', () => {
    const { box: secrets } = box('ab'.repeat(32));
    const sealed = secrets.seal('secret', 'a');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => secrets.open(`v1:${raw.toString('base64')}`, 'a')).toThrow();
    expect(() => secrets.open(sealed, 'b')).toThrow();
    expect(() => box('cd'.repeat(32)).box.open(sealed, 'a')).toThrow();
    expect(() => secrets.open('v0:abc', 'a')).toThrow('unrecognised sealed secret');
  });

  it('generates a master key once into DATA_DIR with mode 0600 when none is configured', () => {
    const { box: secrets, dataDir } = box(null);
    const sealed = secrets.seal('x', 'p');
    const path = join(dataDir, 'secrets-master.key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toMatch(/^[a-f0-9]{64}$/);
    const again = new SecretBox({ data_dir: dataDir, secrets: { master_key: null }, app: { env: 'test' } } as unknown as AppConfig, pino({ level: 'silent' }));
    expect(again.open(sealed, 'p')).toBe('x');
  });

  it('accepts a base64 master key', () => {
    const { box: secrets } = box(Buffer.alloc(32, 7).toString('base64'));
    expect(secrets.open(secrets.seal('y', 'p'), 'p')).toBe('y');
  });
});
