import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createApp } from '../app.js';
import { loadConfig } from '../config/config.loader.js';
import { pino } from 'pino';

export const OPENAPI_FILE = 'openapi/openapi.json';

/** The committed document, byte for byte: the drift test compares against this rendering. */
export async function renderOpenApiDocument(): Promise<string> {
  const config = loadConfig({ env: { NODE_ENV: 'test' }, ignoreDotenv: true });
  const opsdeck = await createApp(config, { connectDatabase: false, logger: pino({ level: 'silent' }) });
  try {
    return `${JSON.stringify(opsdeck.openApiDocument, null, 2)}\n`;
  } finally {
    await opsdeck.close();
  }
}

async function main(): Promise<void> {
  const file = resolve(process.argv[2] ?? OPENAPI_FILE);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await renderOpenApiDocument());
  process.stdout.write(`Wrote ${file}\n`);
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('cli/openapi.js')) {
  main().catch((error: unknown) => {
    process.stderr.write(`openapi failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
