import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { configSchema, type AppConfig } from './config.schema.js';
import { ENVIRONMENT_VARIABLES, type EnvValueKind } from './environment-variables.js';

export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

export interface LoadConfigOptions {
  /** Directory holding config/, .env and package.json. */
  readonly rootDir?: string;
  /** The process environment; the only place OpsDeck reads it. */
  readonly env?: NodeJS.ProcessEnv;
  /** Skip the .env file (tests pass their settings explicitly). */
  readonly ignoreDotenv?: boolean;
}

type JsonObject = Record<string, unknown>;

/** config/default.json < config/$NODE_ENV.json < .env < environment variables, validated once. */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const rootDir = options.rootDir ?? process.cwd();
  const env = options.env ?? process.env;
  const nodeEnv = env.NODE_ENV ?? 'development';

  let merged = readJson(join(rootDir, 'config', 'default.json'), true);
  merged = deepMerge(merged, readJson(join(rootDir, 'config', `${nodeEnv}.json`), false));
  const dotenvPath = join(rootDir, '.env');
  if (!options.ignoreDotenv && existsSync(dotenvPath)) {
    merged = deepMerge(merged, environmentOverrides(parseDotenv(readFileSync(dotenvPath))));
  }
  merged = deepMerge(merged, environmentOverrides(env));

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigValidationError(parsed.error.issues.map(describeIssue));
  }
  return { ...parsed.data, app: { name: 'opsdeck', version: readVersion(rootDir), env: nodeEnv } };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.join('.');
  const variable = ENVIRONMENT_VARIABLES.find((v) => v.path.join('.') === key);
  const label = variable ? `${key} (${variable.name})` : key || '(root)';
  return `${label}: ${issue.message}`;
}

function environmentOverrides(source: Record<string, string | undefined>): JsonObject {
  const overrides: JsonObject = {};
  for (const variable of ENVIRONMENT_VARIABLES) {
    const raw = source[variable.name];
    if (raw === undefined) continue;
    setPath(overrides, variable.path, convert(raw, variable.kind));
  }
  return overrides;
}

/** Converts what clearly matches the kind; anything else is passed on as text so validation names the rule. */
function convert(raw: string, kind: EnvValueKind): unknown {
  const value = raw.trim();
  switch (kind) {
    case 'string':
      return value === '' ? null : value;
    case 'integer':
      return /^-?\d+$/.test(value) ? Number(value) : value;
    case 'boolean':
      if (/^(true|1|yes)$/i.test(value)) return true;
      if (/^(false|0|no)$/i.test(value)) return false;
      return value;
    case 'list':
      return value === '' ? [] : value.split(',').map((item) => item.trim()).filter(Boolean);
  }
}

function setPath(target: JsonObject, path: readonly string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const child = isPlainObject(node[segment]) ? node[segment] : {};
    node[segment] = child;
    node = child;
  }
  node[path[path.length - 1]] = value;
}

function deepMerge(base: JsonObject, override: JsonObject): JsonObject {
  const result: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    result[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readJson(path: string, required: boolean): JsonObject {
  if (!existsSync(path)) {
    if (required) throw new ConfigValidationError([`${path}: file is missing`]);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isPlainObject(parsed)) throw new Error('not a JSON object');
    return parsed;
  } catch (error) {
    throw new ConfigValidationError([`${path}: ${(error as Error).message}`]);
  }
}

function readVersion(rootDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
