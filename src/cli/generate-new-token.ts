import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BOOTSTRAP_TOKEN_PREFIX, generateSecretToken, sha256Hex } from '../auth/secret-tokens.js';

/** Writes API_TOKEN_HASH=<sha256> into the .env file, replacing an earlier one; returns the new token. */
export function generateBootstrapToken(envFile: string): string {
  const token = generateSecretToken(BOOTSTRAP_TOKEN_PREFIX);
  const line = `API_TOKEN_HASH=${sha256Hex(token)}`;
  const existing = existsSync(envFile) ? readFileSync(envFile, 'utf8') : '';
  const kept = existing.split('\n').filter((entry) => entry.trim() !== '' && !/^\s*API_TOKEN_HASH\s*=/.test(entry));
  writeFileSync(envFile, `${[...kept, line].join('\n')}\n`, { mode: 0o600 });
  chmodSync(envFile, 0o600);
  return token;
}

function main(): void {
  const envFile = resolve(process.argv[2] ?? join(process.cwd(), '.env'));
  const token = generateBootstrapToken(envFile);
  process.stdout.write(
    `${token}\n\nThis admin token is shown once. Its SHA-256 is now API_TOKEN_HASH in ${envFile};\n` +
      'restart OpsDeck to use it (X-API-Key or Authorization: Bearer). Running this again replaces it.\n',
  );
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('cli/generate-new-token.js')) main();
