import 'reflect-metadata';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { createApp } from '../app.js';
import { AppError } from '../common/errors/app-error.js';
import { loadConfig } from '../config/config.loader.js';
import { MAX_RELEASE_HISTORY_BYTES } from '../sites/release-history/release-history.parser.js';
import { ReleaseHistoryService } from '../sites/release-history/release-history.service.js';

/**
 * `npm run import-release-history -- <file|dir>...`: imports release-history XML documents (every .xml of a
 * directory, in name order) as POST /api/v1/release-history would, printing a line per project. The first bad
 * file stops the run with exit code 1; files before it stay imported.
 */
async function main(): Promise<void> {
  const targets = process.argv.slice(2).filter((argument) => argument !== '--');
  if (targets.length === 0) throw new Error('usage: npm run import-release-history -- <file.xml|directory>...');
  const files = targets.flatMap(xmlFilesOf);
  if (files.length === 0) throw new Error(`no .xml files in ${targets.join(', ')}`);
  const config = loadConfig();
  // Never listens: safe to run beside a running service on an external database.
  const opsdeck = await createApp(config, { logger: pino({ level: 'warn' }), bootstrapAdmin: false });
  try {
    const service = opsdeck.app.get(ReleaseHistoryService);
    for (const file of files) {
      if (statSync(file).size > MAX_RELEASE_HISTORY_BYTES) {
        throw new Error(`${file}: larger than ${MAX_RELEASE_HISTORY_BYTES} bytes`);
      }
      let summaries;
      try {
        summaries = await service.importDocument(readFileSync(file, 'utf8'), { asSystem: true });
      } catch (error) {
        throw new Error(`${file}: ${describe(error)}`);
      }
      for (const summary of summaries) {
        process.stdout.write(
          `${summary.project}: ${summary.project_status}, ${summary.releases} releases, supported ` +
            `${summary.supported_branches.join(',') || 'none'}, ${summary.sites_reevaluated} site modules re-evaluated (${file})\n`,
        );
      }
    }
  } finally {
    await opsdeck.close();
  }
}

function xmlFilesOf(target: string): string[] {
  const stats = statSync(target, { throwIfNoEntry: false });
  if (!stats) throw new Error(`${target}: no such file or directory`);
  if (!stats.isDirectory()) return [target];
  return readdirSync(target)
    .filter((name) => name.toLowerCase().endsWith('.xml'))
    .sort()
    .map((name) => join(target, name))
    .filter((path) => statSync(path).isFile());
}

/** The error code and every detail, so the operator can fix the file. */
function describe(error: unknown): string {
  if (!(error instanceof AppError)) return (error as Error).message;
  const details = Array.isArray(error.details)
    ? (error.details as ReadonlyArray<{ field: string; messages: readonly string[] }>)
        .map((detail) => `\n  ${detail.field}: ${detail.messages.join('; ')}`)
        .join('')
    : '';
  return `${error.code}: ${error.message}${details}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`import-release-history failed: ${(error as Error).message}\n`);
  process.exit(1);
});
