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
});

export type AppConfig = z.infer<typeof configSchema> & {
  /** Derived at load time, not configurable. */
  readonly app: { readonly name: string; readonly version: string; readonly env: string };
};
export type ConfigInput = z.input<typeof configSchema>;
