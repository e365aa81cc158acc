/** How each environment variable maps onto the configuration tree. The README's table mirrors this list. */
export type EnvValueKind = 'string' | 'integer' | 'boolean' | 'list';

export interface EnvironmentVariable {
  readonly name: string;
  readonly path: readonly string[];
  readonly kind: EnvValueKind;
  readonly description: string;
}

export const ENVIRONMENT_VARIABLES: readonly EnvironmentVariable[] = [
  { name: 'HOST', path: ['server', 'host'], kind: 'string', description: 'address to listen on' },
  { name: 'PORT', path: ['server', 'port'], kind: 'integer', description: 'port to listen on' },
  { name: 'BODY_LIMIT_BYTES', path: ['server', 'body_limit_bytes'], kind: 'integer', description: 'largest accepted request body' },
  { name: 'SHUTDOWN_TIMEOUT_MS', path: ['server', 'shutdown_timeout_ms'], kind: 'integer', description: 'how long SIGTERM waits for in-flight requests' },
  { name: 'TRUST_PROXY', path: ['server', 'trust_proxy'], kind: 'boolean', description: 'take the client address from X-Forwarded-For' },
  { name: 'CORS_ORIGINS', path: ['server', 'cors_origins'], kind: 'list', description: 'comma-separated allowed origins; empty turns CORS off' },
  { name: 'DATA_DIR', path: ['data_dir'], kind: 'string', description: 'embedded database, generated secrets, SSH keys' },
  { name: 'DATABASE_URL', path: ['database', 'url'], kind: 'string', description: 'external PostgreSQL; unset starts the embedded one' },
  { name: 'RUN_MIGRATIONS', path: ['database', 'run_migrations'], kind: 'boolean', description: 'apply pending migrations at start-up' },
  { name: 'DATABASE_POOL_SIZE', path: ['database', 'pool_size'], kind: 'integer', description: 'connections to an external PostgreSQL' },
  { name: 'REDIS_URL', path: ['redis', 'url'], kind: 'string', description: 'shared rate limits (and later Socket.IO events)' },
  { name: 'JWT_SECRET', path: ['auth', 'jwt_secret'], kind: 'string', description: 'token signing secret (>= 32 characters)' },
  { name: 'JWT_EXPIRES_IN', path: ['auth', 'jwt_expires_in_seconds'], kind: 'integer', description: 'token lifetime in seconds' },
  { name: 'API_TOKEN_HASH', path: ['auth', 'api_token_hash'], kind: 'string', description: 'SHA-256 of the bootstrap admin token' },
  { name: 'PRINCIPAL_CACHE_TTL_MS', path: ['auth', 'principal_cache_ttl_ms'], kind: 'integer', description: 'how long an authenticated user or key is reused without a database read (0: off)' },
  { name: 'ADMIN_EMAIL', path: ['admin', 'email'], kind: 'string', description: 'first admin created when none exists' },
  { name: 'ADMIN_PASSWORD', path: ['admin', 'password'], kind: 'string', description: "first admin's password (generated when unset)" },
  { name: 'RATE_LIMIT_PER_MINUTE', path: ['rate_limit', 'per_minute'], kind: 'integer', description: 'requests per minute per client' },
  { name: 'LOGIN_RATE_LIMIT_PER_MINUTE', path: ['rate_limit', 'login_per_minute'], kind: 'integer', description: 'logins per minute per client and account' },
  { name: 'TLS_CERT_FILE', path: ['tls', 'cert_file'], kind: 'string', description: 'PEM certificate; with TLS_KEY_FILE serves HTTPS' },
  { name: 'TLS_KEY_FILE', path: ['tls', 'key_file'], kind: 'string', description: 'PEM private key' },
  { name: 'LOG_LEVEL', path: ['log', 'level'], kind: 'string', description: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'LOG_FILE', path: ['log', 'file'], kind: 'string', description: 'also write logs to this file, rotated by size' },
  { name: 'LXC_PATH', path: ['lxc', 'path'], kind: 'string', description: "LXC's container directory" },
  { name: 'LXC_BRIDGE', path: ['lxc', 'bridge'], kind: 'string', description: 'the bridge new containers join' },
  { name: 'LXC_TOOLS_PATH', path: ['lxc', 'tools_path'], kind: 'string', description: 'directory searched before PATH for lxc-* and nft' },
  { name: 'IDRAC_MAX_CONCURRENCY', path: ['idrac', 'max_concurrency'], kind: 'integer', description: 'iDRAC SSH sessions at once, across all deployments' },
  { name: 'IDRAC_MAX_HANDSHAKES', path: ['idrac', 'max_handshakes'], kind: 'integer', description: 'iDRAC SSH logins in their key exchange at once (0: no limit)' },
  { name: 'IDRAC_CONNECT_TIMEOUT_MS', path: ['idrac', 'connect_timeout_ms'], kind: 'integer', description: 'iDRAC SSH connect timeout' },
  { name: 'IDRAC_COMMAND_TIMEOUT_MS', path: ['idrac', 'command_timeout_ms'], kind: 'integer', description: 'timeout of one racadm command' },
  { name: 'IDRAC_KEYS_DIR', path: ['idrac', 'keys_dir'], kind: 'string', description: 'private SSH keys (default <DATA_DIR>/ssh)' },
  { name: 'IDRAC_ALLOWED_TARGETS', path: ['idrac', 'allowed_targets'], kind: 'list', description: 'comma-separated CIDRs and host names iDRAC servers may use' },
  { name: 'OPERATIONS_MAX_RUNNING', path: ['operations', 'max_running'], kind: 'integer', description: 'operations one instance runs at once (the rest wait as pending)' },
  { name: 'INSTANCE_NAME', path: ['operations', 'instance_name'], kind: 'string', description: 'names this instance in its operations (default: the host name)' },
  { name: 'IDRAC_KEY_GENERATION_PER_MINUTE', path: ['idrac', 'key_generation_per_minute'], kind: 'integer', description: 'key pairs one caller may generate per minute' },
  { name: 'SECRETS_MASTER_KEY', path: ['secrets', 'master_key'], kind: 'string', description: 'key for secrets encrypted at rest (generated into DATA_DIR when unset)' },
  { name: 'METRICS_PUBLIC', path: ['metrics', 'public'], kind: 'boolean', description: 'serve /api/metrics without credentials' },
];
