import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config.loader.js';
import { buildDataSourceOptions } from '../database/database-options.js';
import { openDatabaseTarget } from '../database/database-target.js';

/** `npm run migrate` applies pending migrations; `-- --show` lists them; `-- --revert` undoes the last one. */
async function main(): Promise<void> {
  const mode = process.argv.includes('--revert') ? 'revert' : process.argv.includes('--show') ? 'show' : 'run';
  const config = loadConfig();
  const target = await openDatabaseTarget(config);
  const dataSource = new DataSource({ ...buildDataSourceOptions(config, target), migrationsRun: false });
  try {
    await dataSource.initialize();
    if (mode === 'show') {
      const pending = await dataSource.showMigrations();
      process.stdout.write(pending ? 'There are pending migrations.\n' : 'The schema is up to date.\n');
    } else if (mode === 'revert') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      process.stdout.write('Reverted the last migration.\n');
    } else {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      process.stdout.write(
        applied.length === 0
          ? 'The schema is up to date.\n'
          : `Applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m.name}`).join('\n')}\n`,
      );
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await target.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migrate failed: ${(error as Error).message}\n`);
  process.exit(1);
});
