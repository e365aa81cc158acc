import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createApp } from '../app.js';
import { announceGeneratedPassword, FirstAdminService } from '../auth/first-admin.service.js';
import { loadConfig } from '../config/config.loader.js';

/**
 * `npm run create-admin [-- --email a@b.c]`: an admin in the default organization, with ADMIN_PASSWORD or a
 * generated password (printed once and written to DATA_DIR/initial-admin-password).
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { email: { type: 'string' } } });
  const config = loadConfig();
  // Never listens: safe to run beside a running service on an external database.
  const opsdeck = await createApp(config, { logger: pino({ level: 'warn' }), bootstrapAdmin: false });
  try {
    const created = await opsdeck.app.get(FirstAdminService).createAdmin({ onlyIfNone: false, email: values.email });
    if (!created) throw new Error('no admin was created');
    if (created.generatedPassword) announceGeneratedPassword(created);
    else process.stdout.write(`Created the admin ${created.email} with the configured ADMIN_PASSWORD.\n`);
  } finally {
    await opsdeck.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`create-admin failed: ${(error as Error).message}\n`);
  process.exit(1);
});
