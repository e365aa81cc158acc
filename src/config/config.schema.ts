import { z } from 'zod';

const nullableString = z.string().min(1).nullable();
const port = z.number().int().min(1).max(65535);

const serverSchema = z.strictObject({
  host: z.string().min(1),
  port,
  body_limit_bytes: z.number().int().min(1024).max(64 * 1024 * 1024),
  shutdown_timeout_ms: z.number().int().min(0).max(120_000),
  trust_proxy: z.boolean(),
  cors_origins: z.array(z.string().min(1)),
});

const databaseSchema = z.strictObject({
  url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .nullable(),
  run_migrations: z.boolean(),
  pool_size: z.number().int().min(1).max(200),
  connect_timeout_ms: z.number().int().min(100).max(120_000),
  statement_timeout_ms: z.number().int().min(0).max(3_600_000),
});

const authSchema = z.strictObject({
  jwt_secret: z.string().min(32, 'must be at least 32 characters').nullable(),
  jwt_expires_in_seconds: z.number().int().min(60).max(30 * 24 * 3600),
  api_token_hash: z
    .string()
    .regex(/^[a-f0-9]{64}$/, 'must be a lower-case hex SHA-256 digest (64 characters)')
    .nullable(),
  /** How long an authenticated principal is reused without reading the database again; 0 turns the cache off. */
  principal_cache_ttl_ms: z.number().int().min(0).max(60_000),
});

const timeoutMs = z.number().int().min(100).max(3_600_000);

const lxcSchema = z.strictObject({
  path: z.string().min(1),
  bridge: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/, 'must be a network interface name'),
  /** Searched before PATH for lxc-* and the tools the scripts call (tests point it at the fake tool set). */
  tools_path: nullableString,
  scripts_dir: nullableString,
  ssh_user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name'),
  timeouts_ms: z.strictObject({
    query: timeoutMs,
    create: timeoutMs,
    start: timeoutMs,
    stop: timeoutMs,
    destroy: timeoutMs,
    attach: timeoutMs,
    script: timeoutMs,
  }),
});

const idracSchema = z.strictObject({
  max_concurrency: z.number().int().min(1).max(1000),
  /** SSH logins in their key exchange at once (0: no limit); see src/idrac/ssh/handshake-gate.ts. */
  max_handshakes: z.number().int().min(0).max(1000),
  connect_timeout_ms: timeoutMs,
  command_timeout_ms: timeoutMs,
  /** Where private keys live; null means <data_dir>/ssh. */
  keys_dir: nullableString,
  /** CIDRs and host names servers may point at; empty allows any valid host. */
  allowed_targets: z.array(z.string().min(1)),
  key_generation_per_minute: z.number().int().min(1).max(10_000),
});

const operationsSchema = z.strictObject({
  /** The longest GET /operations/{id}/wait may block. */
  max_wait_seconds: z.number().int().min(1).max(600),
  /** Operations this instance runs at once; the rest wait as pending (and may be cancelled). */
  max_running: z.number().int().min(1).max(256),
  /**
   * Names this instance in the operations it runs; at start-up it interrupts what it left unfinished. Null means
   * the host name. Instances sharing a database need distinct names.
   */
  instance_name: z.string().min(1).max(255).nullable(),
});

export const configSchema = z.strictObject({
  server: serverSchema,
  data_dir: z.string().min(1),
  database: databaseSchema,
  redis: z.strictObject({
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .nullable(),
  }),
  auth: authSchema,
  admin: z.strictObject({
    email: z.email().nullable(),
    password: z.string().min(12, 'must be at least 12 characters').max(256).nullable(),
    organization_name: z.string().min(1).max(200),
  }),
  rate_limit: z.strictObject({
    per_minute: z.number().int().min(1).max(1_000_000),
    login_per_minute: z.number().int().min(1).max(10_000),
  }),
  tls: z
    .strictObject({ cert_file: nullableString, key_file: nullableString })
    .superRefine((tls, context) => {
      if (tls.cert_file !== null && tls.key_file === null) {
        context.addIssue({ code: 'custom', path: ['key_file'], message: 'must be set when cert_file is set' });
      }
      if (tls.key_file !== null && tls.cert_file === null) {
        context.addIssue({ code: 'custom', path: ['cert_file'], message: 'must be set when key_file is set' });
      }
    }),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    file: nullableString,
    file_max_size: z.string().regex(/^\d+[kmg]?$/, 'must be a size such as 10m'),
    file_max_files: z.number().int().min(1).max(100),
  }),
  metrics: z.strictObject({ public: z.boolean() }),
  secrets: z.strictObject({
    master_key: z
      .string()
      .regex(/^(?:[A-Fa-f0-9]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex digits or base64')
      .nullable(),
  }),
  lxc: lxcSchema,
  idrac: idracSchema,
  operations: operationsSchema,
});

export type AppConfig = z.infer<typeof configSchema> & {
  /** Derived at load time, not configurable. */
  readonly app: { readonly name: string; readonly version: string; readonly env: string };
};
export type ConfigInput = z.input<typeof configSchema>;
