import 'reflect-metadata';
import { createApp } from './app.js';
import { loadConfig } from './config/config.loader.js';
import { installGracefulShutdown } from './shutdown.js';

async function bootstrap(): Promise<void> {
  const startedAt = performance.now();
  const config = loadConfig();
  const opsdeck = await createApp(config);
  const { app, logger } = opsdeck;
  await app.listen(config.server.port, config.server.host);
  installGracefulShutdown(opsdeck, app.getHttpServer());
  const scheme = config.tls.cert_file ? 'https' : 'http';
  logger.info(
    {
      url: `${scheme}://${config.server.host}:${config.server.port}`,
      database: opsdeck.database.embedded ? 'embedded' : 'external',
      startup_ms: Math.round(performance.now() - startedAt),
    },
    'OpsDeck is ready',
  );
}

bootstrap().catch((error: unknown) => {
  // Before the logger exists (bad configuration) stderr is the only place to say why.
  process.stderr.write(`OpsDeck failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
