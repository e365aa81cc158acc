import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import type { AppConfig } from '../../config/config.schema.js';
import { requestContext } from '../http/request-context.js';

const SECRET_FIELDS = [
  'password',
  'new_password',
  'current_password',
  'token',
  'access_token',
  'refresh_token',
  'api_key',
  'secret',
  'jwt_secret',
  'private_key',
  'passphrase',
];

/** Paths pino censors wherever they appear in a log object, down to three levels of nesting. */
const SECRET_HEADERS = ['authorization', 'Authorization', '["x-api-key"]', '["X-API-Key"]', 'cookie', 'Cookie', '["set-cookie"]'];

export const REDACTED_PATHS: string[] = [
  ...SECRET_HEADERS.flatMap((header) => {
    const path = header.startsWith('[') ? header : `.${header}`;
    return [`headers${path}`, `*.headers${path}`, `*.*.headers${path}`];
  }),
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]),
];

/** JSON lines on stdout, and with LOG_FILE also a size-rotated file, both written from the main thread. */
export async function createLogger(config: AppConfig): Promise<Logger> {
  const options = {
    level: config.log.level,
    base: { service: config.app.name, version: config.app.version },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: () => {
      const requestId = requestContext.current()?.requestId;
      return requestId ? { request_id: requestId } : {};
    },
  };
  if (!config.log.file || config.log.level === 'silent') {
    return pino(options);
  }
  const file = resolve(config.log.file);
  mkdirSync(dirname(file), { recursive: true });
  const rotating = await pinoRoll({
    file,
    size: config.log.file_max_size,
    limit: { count: config.log.file_max_files },
    mkdir: true,
  });
  return pino(options, pino.multistream([{ stream: pino.destination(1) }, { stream: rotating }]));
}
