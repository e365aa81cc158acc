import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, loadConfig } from './config.loader.js';

const REPOSITORY_DEFAULTS = JSON.parse(readFileSync(join(process.cwd(), 'config', 'default.json'), 'utf8')) as Record<
  string,
  unknown
>;

let rootDir: string;

function writeConfigFile(name: string, content: unknown): void {
  const text = typeof content === 'string' ? content : JSON.stringify(content);
  writeFileSync(join(rootDir, 'config', name), text);
}

function writeDotenv(lines: string[]): void {
  writeFileSync(join(rootDir, '.env'), `${lines.join('\n')}\n`);
}

function captureValidationError(load: () => unknown): ConfigValidationError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return error as ConfigValidationError;
  }
  throw new Error('expected loadConfig to throw a ConfigValidationError');
}

function loadWithEnv(env: NodeJS.ProcessEnv): ReturnType<typeof loadConfig> {
  return loadConfig({ rootDir, env: { NODE_ENV: 'staging', ...env }, ignoreDotenv: true });
}

beforeEach(() => {
  rootDir = mkdtempSync(join(tmpdir(), 'opsdeck-config-'));
  mkdirSync(join(rootDir, 'config'));
  writeConfigFile('default.json', REPOSITORY_DEFAULTS);
  writeFileSync(join(rootDir, 'package.json'), JSON.stringify({ name: 'fixture', version: '9.8.7' }));
});

afterEach(() => {
  rmSync(rootDir, { recursive: true, force: true });
});

describe('loadConfig layering', () => {
  it('uses config/default.json when nothing overrides it', () => {
    const config = loadConfig({ rootDir, env: { NODE_ENV: 'staging' } });

    expect(config.server.port).toBe(3000);
    expect(config.log.level).toBe('info');
    expect(config.database.pool_size).toBe(10);
  });

  it('derives app name, version from package.json and env from NODE_ENV', () => {
    const config = loadConfig({ rootDir, env: { NODE_ENV: 'staging' } });

    expect(config.app).toEqual({ name: 'opsdeck', version: '9.8.7', env: 'staging' });
  });

  it('falls back to development and version 0.0.0 when NODE_ENV and package.json are missing', () => {
    rmSync(join(rootDir, 'package.json'));
    writeConfigFile('development.json', { server: { port: 4100 } });

    const config = loadConfig({ rootDir, env: {} });

    expect(config.app.env).toBe('development');
    expect(config.app.version).toBe('0.0.0');
    expect(config.server.port).toBe(4100);
  });

  it('lets config/$NODE_ENV.json override defaults key by key, keeping sibling keys', () => {
    writeConfigFile('staging.json', { server: { port: 4000 }, log: { level: 'warn' } });

    const config = loadConfig({ rootDir, env: { NODE_ENV: 'staging' } });

    expect(config.server.port).toBe(4000);
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.log.level).toBe('warn');
    expect(config.log.file_max_size).toBe('10m');
  });

  it('lets .env override config/$NODE_ENV.json', () => {
    writeConfigFile('staging.json', { server: { port: 4000 }, log: { level: 'warn' } });
    writeDotenv(['PORT=5000', 'LOG_LEVEL=debug']);

    const config = loadConfig({ rootDir, env: { NODE_ENV: 'staging' } });

    expect(config.server.port).toBe(5000);
    expect(config.log.level).toBe('debug');
  });

  it('lets the environment override .env', () => {
    writeConfigFile('staging.json', { server: { port: 4000 } });
    writeDotenv(['PORT=5000', 'LOG_LEVEL=debug']);

    const config = loadConfig({ rootDir, env: { NODE_ENV: 'staging', PORT: '6000' } });

    expect(config.server.port).toBe(6000);
    expect(config.log.level).toBe('debug');
  });

  it('skips .env when ignoreDotenv is set', () => {
    writeDotenv(['PORT=5000']);

    const config = loadConfig({ rootDir, env: { NODE_ENV: 'staging' }, ignoreDotenv: true });

    expect(config.server.port).toBe(3000);
  });

  it('does not read process.env when an env object is given', () => {
    const previousPort = process.env.PORT;
    process.env.PORT = '9999';
    try {
      const config = loadConfig({ rootDir, env: { NODE_ENV: 'staging' }, ignoreDotenv: true });

      expect(config.server.port).toBe(3000);
    } finally {
      if (previousPort === undefined) delete process.env.PORT;
      else process.env.PORT = previousPort;
    }
  });

  it('replaces arrays from a later layer instead of merging them', () => {
    writeConfigFile('staging.json', { server: { cors_origins: ['https://a.example', 'https://b.example'] } });

    const config = loadWithEnv({ CORS_ORIGINS: 'https://c.example' });

    expect(config.server.cors_origins).toEqual(['https://c.example']);
  });

  it('ignores environment variables it does not know', () => {
    const config = loadWithEnv({ SOMETHING_ELSE: 'x', server: 'not a tree' });

    expect(config.server.port).toBe(3000);
  });
});

describe('loadConfig conversion of environment variables', () => {
  it('converts integers, trimming surrounding spaces', () => {
    const config = loadWithEnv({ PORT: ' 8080 ', DATABASE_POOL_SIZE: '42', JWT_EXPIRES_IN: '7200' });

    expect(config.server.port).toBe(8080);
    expect(config.database.pool_size).toBe(42);
    expect(config.auth.jwt_expires_in_seconds).toBe(7200);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['No', false],
  ])('converts boolean %p to %p', (raw, expected) => {
    const config = loadWithEnv({ TRUST_PROXY: raw, METRICS_PUBLIC: raw });

    expect(config.server.trust_proxy).toBe(expected);
    expect(config.metrics.public).toBe(expected);
  });

  it('splits lists on commas, trimming items and dropping empty ones', () => {
    const config = loadWithEnv({ CORS_ORIGINS: ' https://a.example , https://b.example,,' });

    expect(config.server.cors_origins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('turns an empty list into an empty array', () => {
    writeConfigFile('staging.json', { server: { cors_origins: ['https://a.example'] } });

    const config = loadWithEnv({ CORS_ORIGINS: '' });

    expect(config.server.cors_origins).toEqual([]);
  });

  it('turns an empty string into null so an optional setting can be unset', () => {
    writeConfigFile('staging.json', {
      database: { url: 'postgres://db.example/opsdeck' },
      redis: { url: 'redis://cache.example:6379' },
      log: { file: 'logs/app.log' },
    });

    const config = loadWithEnv({ DATABASE_URL: '', REDIS_URL: '  ', LOG_FILE: '' });

    expect(config.database.url).toBeNull();
    expect(config.redis.url).toBeNull();
    expect(config.log.file).toBeNull();
  });

  it('keeps strings as given', () => {
    const secret = 'a'.repeat(40);
    const config = loadWithEnv({
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://user:pw@db/opsdeck',
      REDIS_URL: 'rediss://cache:6380',
      JWT_SECRET: secret,
      TLS_CERT_FILE: 'certs/cert.pem',
      TLS_KEY_FILE: 'certs/key.pem',
      DATA_DIR: '/var/lib/opsdeck',
    });

    expect(config.server.host).toBe('0.0.0.0');
    expect(config.database.url).toBe('postgresql://user:pw@db/opsdeck');
    expect(config.redis.url).toBe('rediss://cache:6380');
    expect(config.auth.jwt_secret).toBe(secret);
    expect(config.tls).toEqual({ cert_file: 'certs/cert.pem', key_file: 'certs/key.pem' });
    expect(config.data_dir).toBe('/var/lib/opsdeck');
  });

  it('reads typed values from .env the same way as from the environment', () => {
    writeDotenv(['PORT=7000', 'TRUST_PROXY=yes', 'CORS_ORIGINS=https://a.example,https://b.example', 'LOG_FILE=']);
    writeConfigFile('staging.json', { log: { file: 'logs/app.log' } });

    const config = loadConfig({ rootDir, env: { NODE_ENV: 'staging' } });

    expect(config.server.port).toBe(7000);
    expect(config.server.trust_proxy).toBe(true);
    expect(config.server.cors_origins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.log.file).toBeNull();
  });
});

describe('loadConfig validation', () => {
  it.each([
    ['PORT', 'abc', 'server.port (PORT)', /expected number, received string/],
    ['PORT', '70000', 'server.port (PORT)', /<=\s*65535/],
    ['PORT', '0', 'server.port (PORT)', />=\s*1/],
    ['PORT', '80.5', 'server.port (PORT)', /expected number/],
    ['LOG_LEVEL', 'loud', 'log.level (LOG_LEVEL)', /"fatal"\|"error"\|"warn"\|"info"\|"debug"\|"trace"\|"silent"/],
    ['DATABASE_URL', 'mysql://x', 'database.url (DATABASE_URL)', /must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['REDIS_URL', 'http://cache', 'redis.url (REDIS_URL)', /must be a redis:\/\/ or rediss:\/\/ URL/],
    ['JWT_SECRET', 'short-secret', 'auth.jwt_secret (JWT_SECRET)', /must be at least 32 characters/],
    ['API_TOKEN_HASH', 'ABCDEF', 'auth.api_token_hash (API_TOKEN_HASH)', /lower-case hex SHA-256/],
    ['TRUST_PROXY', 'maybe', 'server.trust_proxy (TRUST_PROXY)', /expected boolean, received string/],
    ['RATE_LIMIT_PER_MINUTE', '0', 'rate_limit.per_minute (RATE_LIMIT_PER_MINUTE)', />=\s*1/],
  ])('rejects %s=%p naming %s and the rule', (name, value, label, rule) => {
    const error = captureValidationError(() => loadWithEnv({ [name]: value }));

    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].startsWith(`${label}: `)).toBe(true);
    expect(error.problems[0]).toMatch(rule);
    expect(error.message).toContain(label);
    expect(error.name).toBe('ConfigValidationError');
  });

  it('rejects an empty value for a required string', () => {
    const error = captureValidationError(() => loadWithEnv({ DATA_DIR: '' }));

    expect(error.problems).toEqual([expect.stringMatching(/^data_dir \(DATA_DIR\): .*received null/)]);
  });

  it('rejects TLS_CERT_FILE without TLS_KEY_FILE', () => {
    const error = captureValidationError(() => loadWithEnv({ TLS_CERT_FILE: 'certs/cert.pem' }));

    expect(error.problems).toEqual(['tls.key_file (TLS_KEY_FILE): must be set when cert_file is set']);
  });

  it('rejects TLS_KEY_FILE without TLS_CERT_FILE', () => {
    const error = captureValidationError(() => loadWithEnv({ TLS_KEY_FILE: 'certs/key.pem' }));

    expect(error.problems).toEqual(['tls.cert_file (TLS_CERT_FILE): must be set when key_file is set']);
  });

  it('reports every bad value at once', () => {
    const error = captureValidationError(() => loadWithEnv({ PORT: 'abc', LOG_LEVEL: 'loud' }));

    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('server.port (PORT)');
    expect(error.message).toContain('log.level (LOG_LEVEL)');
  });

  it('names a bad value that came from .env', () => {
    writeDotenv(['PORT=abc']);

    const error = captureValidationError(() => loadConfig({ rootDir, env: { NODE_ENV: 'staging' } }));

    expect(error.problems[0]).toMatch(/^server\.port \(PORT\): /);
  });

  it('names a bad value from a JSON file by its key alone when no variable maps to it', () => {
    writeConfigFile('staging.json', { log: { file_max_size: 'huge' } });

    const error = captureValidationError(() => loadWithEnv({}));

    expect(error.problems).toEqual(['log.file_max_size: must be a size such as 10m']);
  });

  it('rejects an unknown key in config/$NODE_ENV.json, naming the key', () => {
    writeConfigFile('staging.json', { server: { prot: 4000 } });

    const error = captureValidationError(() => loadWithEnv({}));

    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^server: /);
    expect(error.problems[0]).toContain('"prot"');
  });

  it('rejects an unknown top-level key in config/default.json', () => {
    writeConfigFile('default.json', { ...REPOSITORY_DEFAULTS, feature_flags: {} });

    const error = captureValidationError(() => loadWithEnv({}));

    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^\(root\): /);
    expect(error.problems[0]).toContain('"feature_flags"');
  });

  it('rejects a value of the wrong type in a JSON file', () => {
    writeConfigFile('staging.json', { server: { port: '3000' } });

    const error = captureValidationError(() => loadWithEnv({}));

    expect(error.problems).toEqual([expect.stringMatching(/^server\.port \(PORT\): .*expected number, received string/)]);
  });

  it('rejects a malformed JSON file, naming the file', () => {
    writeConfigFile('staging.json', '{ "server": { "port": 4000, } }');

    const error = captureValidationError(() => loadWithEnv({}));

    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].startsWith(`${join(rootDir, 'config', 'staging.json')}: `)).toBe(true);
  });

  it('rejects a JSON file that is not an object', () => {
    writeConfigFile('staging.json', '[1, 2, 3]');

    const error = captureValidationError(() => loadWithEnv({}));

    expect(error.problems).toEqual([`${join(rootDir, 'config', 'staging.json')}: not a JSON object`]);
  });

  it('requires config/default.json', () => {
    rmSync(join(rootDir, 'config', 'default.json'));

    const error = captureValidationError(() => loadWithEnv({}));

    expect(error.problems).toEqual([`${join(rootDir, 'config', 'default.json')}: file is missing`]);
  });

  it('accepts a missing config/$NODE_ENV.json', () => {
    const config = loadConfig({ rootDir, env: { NODE_ENV: 'no-such-environment' }, ignoreDotenv: true });

    expect(config.app.env).toBe('no-such-environment');
    expect(config.server.port).toBe(3000);
  });
});

describe('loadConfig with the repository configuration', () => {
  it('loads for NODE_ENV=test', () => {
    const config = loadConfig({ rootDir: process.cwd(), env: { NODE_ENV: 'test' }, ignoreDotenv: true });

    expect(config.app.env).toBe('test');
    expect(config.log.level).toBe('silent');
    expect(config.database.pool_size).toBe(4);
    expect(config.app.version).toBe(
      (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('loads for NODE_ENV=production', () => {
    const config = loadConfig({ rootDir: process.cwd(), env: { NODE_ENV: 'production' }, ignoreDotenv: true });

    expect(config.app.env).toBe('production');
    expect(config.log.level).toBe('info');
    expect(config.database.pool_size).toBe(20);
  });

  it('defaults rootDir to the working directory', () => {
    const config = loadConfig({ env: { NODE_ENV: 'test' }, ignoreDotenv: true });

    expect(config.database.pool_size).toBe(4);
  });
});
