import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigValidationError } from '../config/config.loader.js';
import type { AppConfig } from '../config/config.schema.js';

/**
 * JWT_SECRET when configured. Outside production a secret is generated once into DATA_DIR/jwt-secret
 * (mode 0600) so tokens survive restarts; production refuses to start without one.
 */
export function resolveJwtSecret(config: AppConfig): string {
  if (config.auth.jwt_secret) return config.auth.jwt_secret;
  if (config.app.env === 'production') {
    throw new ConfigValidationError(['auth.jwt_secret (JWT_SECRET): required when NODE_ENV=production']);
  }
  const dataDir = resolve(config.data_dir);
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}
