import { chmodSync, mkdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Private SSH keys as files under keys_dir (0700), one per key, mode 0600, named by the key's id and never by
 * anything a caller typed. Nothing here logs or returns a key except `read`, which the SSH adapter uses.
 */
@Injectable()
export class PrivateKeyStore {
  private readonly directory: string;

  constructor(@InjectConfig() config: AppConfig) {
    this.directory = resolve(config.idrac.keys_dir ?? join(config.data_dir, 'ssh'));
  }

  async write(id: string, privateKey: string): Promise<void> {
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    chmodSync(this.directory, 0o700);
    await writeFile(this.pathOf(id), privateKey, { mode: 0o600, flag: 'wx' });
  }

  read(id: string): Promise<string> {
    return readFile(this.pathOf(id), 'utf8');
  }

  async remove(id: string): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  pathOf(id: string): string {
    if (!KEY_ID.test(id)) throw new Error('a key file is named by its UUID');
    return join(this.directory, `${id}.key`);
  }
}
