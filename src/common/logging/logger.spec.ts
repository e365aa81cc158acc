import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../../config/config.loader.js';
import type { AppConfig } from '../../config/config.schema.js';
import { requestContext } from '../http/request-context.js';
import { REDACTED_PATHS, createLogger } from './logger.js';

type LogLine = Record<string, unknown>;

class LineCollector extends Writable {
  readonly lines: LogLine[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.lines.push(JSON.parse(chunk.toString()) as LogLine);
    callback();
  }

  get last(): LogLine {
    return this.lines[this.lines.length - 1];
  }
}

function redactingLogger(): { logger: Logger; output: LineCollector } {
  const output = new LineCollector();
  const logger = pino({ redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' } }, output);
  return { logger, output };
}

function configWithLog(log: Partial<AppConfig['log']>): AppConfig {
  const base = loadConfig({ env: { NODE_ENV: 'test' }, ignoreDotenv: true });
  return { ...base, log: { ...base.log, ...log } };
}

/** createLogger writes to stdout; swapping its destination lets the test read exactly what it would print. */
async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for the log file');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function captureOutputOf(logger: Logger): LogLine[] {
  const lines: LogLine[] = [];
  const target = logger as unknown as Record<symbol, unknown>;
  target[pino.symbols.streamSym] = {
    write: (chunk: string) => lines.push(JSON.parse(chunk) as LogLine),
  };
  return lines;
}

describe('REDACTED_PATHS', () => {
  it.each(['authorization', 'x-api-key', 'cookie'])('censors the %s header of a logged request', (header) => {
    const { logger, output } = redactingLogger();

    logger.info({ req: { method: 'GET', headers: { [header]: 'sensitive-value', accept: 'application/json' } } });

    expect(output.last.req).toEqual({
      method: 'GET',
      headers: { [header]: '[REDACTED]', accept: 'application/json' },
    });
  });

  it.each(['authorization', 'x-api-key', 'cookie'])('censors the %s header of a top-level headers object', (header) => {
    const { logger, output } = redactingLogger();

    logger.info({ headers: { [header]: 'sensitive-value', host: 'opsdeck.local' } });

    expect(output.last.headers).toEqual({ [header]: '[REDACTED]', host: 'opsdeck.local' });
  });

  it('censors Set-Cookie of a logged response', () => {
    const { logger, output } = redactingLogger();

    logger.info({ res: { statusCode: 200, headers: { 'set-cookie': ['session=abc'], 'content-type': 'text/plain' } } });

    expect(output.last.res).toEqual({
      statusCode: 200,
      headers: { 'set-cookie': '[REDACTED]', 'content-type': 'text/plain' },
    });
  });

  it.each([
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
  ])('censors the secret field %s at the top level', (field) => {
    const { logger, output } = redactingLogger();

    logger.info({ [field]: 'hunter2', user: 'admin' }, 'login');

    expect(output.last[field]).toBe('[REDACTED]');
    expect(output.last.user).toBe('admin');
    expect(output.last.msg).toBe('login');
  });

  it('censors secret fields one, two and three levels deep', () => {
    const { logger, output } = redactingLogger();

    logger.info({
      body: { password: 'level-one', username: 'admin' },
      site: { credentials: { token: 'level-two', user: 'deploy' } },
      host: { idrac: { ssh: { private_key: 'level-three', port: 22 } } },
    });

    expect(output.last.body).toEqual({ password: '[REDACTED]', username: 'admin' });
    expect(output.last.site).toEqual({ credentials: { token: '[REDACTED]', user: 'deploy' } });
    expect(output.last.host).toEqual({ idrac: { ssh: { private_key: '[REDACTED]', port: 22 } } });
  });

  it('never lets a secret value reach the output', () => {
    const { logger, output } = redactingLogger();

    logger.warn(
      {
        req: { headers: { authorization: 'Bearer s3cr3t-bearer', cookie: 's3cr3t-cookie' } },
        body: { password: 's3cr3t-password', secret: 's3cr3t-secret' },
        api_key: 's3cr3t-key',
      },
      'suspicious request',
    );

    expect(JSON.stringify(output.lines)).not.toMatch(/s3cr3t/);
  });

  it('leaves fields that merely resemble secret names alone', () => {
    const { logger, output } = redactingLogger();

    logger.info({ token_count: 3, password_changed_at: '2024-01-01', body: { tokens_left: 7 } });

    expect(output.last).toMatchObject({ token_count: 3, password_changed_at: '2024-01-01', body: { tokens_left: 7 } });
  });

  it('does not alter the logged object', () => {
    const { logger } = redactingLogger();
    const body = { password: 'hunter2' };

    logger.info({ body });

    expect(body.password).toBe('hunter2');
  });
});

describe('createLogger', () => {
  let logDir: string;

  beforeAll(() => {
    logDir = mkdtempSync(join(tmpdir(), 'opsdeck-logger-'));
  });

  afterAll(() => {
    rmSync(logDir, { recursive: true, force: true });
  });

  it.each(['debug', 'info', 'warn', 'silent'] as const)('uses the configured level %s', async (level) => {
    expect((await createLogger(configWithLog({ level }))).level).toBe(level);
  });

  it('writes JSON lines with the level label, an ISO time, service and version', async () => {
    const config = configWithLog({ level: 'info' });
    const logger = await createLogger(config);
    const lines = captureOutputOf(logger);

    logger.info({ site: 'a' }, 'started');
    logger.debug('below the level');

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'opsdeck',
      version: config.app.version,
      site: 'a',
      msg: 'started',
    });
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
  });

  it('redacts secrets in what it writes', async () => {
    const logger = await createLogger(configWithLog({ level: 'info' }));
    const lines = captureOutputOf(logger);

    logger.info({ req: { headers: { authorization: 'Bearer abc' } }, body: { user: { password: 'hunter2' } } });

    expect(lines[0]).toMatchObject({
      req: { headers: { authorization: '[REDACTED]' } },
      body: { user: { password: '[REDACTED]' } },
    });
  });

  it('adds request_id to lines written inside a request context', async () => {
    const logger = await createLogger(configWithLog({ level: 'info' }));
    const lines = captureOutputOf(logger);

    requestContext.run({ requestId: 'req-42' }, () => logger.info('inside'));
    logger.info('outside');

    expect(lines[0]).toMatchObject({ msg: 'inside', request_id: 'req-42' });
    expect(lines[1].msg).toBe('outside');
    expect(lines[1]).not.toHaveProperty('request_id');
  });

  it('keeps the request id across awaits inside the request context', async () => {
    const logger = await createLogger(configWithLog({ level: 'info' }));
    const lines = captureOutputOf(logger);

    await requestContext.run({ requestId: 'req-async' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('after await');
    });

    expect(lines[0]).toMatchObject({ msg: 'after await', request_id: 'req-async' });
  });

  it('neither creates the log directory nor writes a file when the level is silent', async () => {
    const file = join(logDir, 'silent', 'opsdeck.log');

    const logger = await createLogger(configWithLog({ level: 'silent', file }));
    logger.error('not written');

    expect(logger.level).toBe('silent');
    expect(existsSync(join(logDir, 'silent'))).toBe(false);
  });

  it('also writes redacted lines to a rotated file when LOG_FILE is set', async () => {
    const directory = join(logDir, 'rolling');
    const logger = await createLogger(configWithLog({ level: 'warn', file: join(directory, 'opsdeck.log') }));

    expect(existsSync(directory)).toBe(true);
    requestContext.run({ requestId: 'req-file' }, () => logger.warn({ body: { password: 'hunter2' } }, 'to the file'));
    logger.flush();

    const content = await waitFor(() => {
      const file = readdirSync(directory).find((name) => /^opsdeck\.\d+\.log$/.test(name));
      const text = file === undefined ? '' : readFileSync(join(directory, file), 'utf8');
      return text.includes('\n') ? text : undefined;
    });
    const line = JSON.parse(content.trim().split('\n')[0]) as LogLine;
    expect(line).toMatchObject({
      level: 'warn',
      msg: 'to the file',
      request_id: 'req-file',
      body: { password: '[REDACTED]' },
    });
  });
});
