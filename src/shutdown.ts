import type { Server } from 'node:http';
import type { OpsDeckApp } from './app.js';

/**
 * SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish (bounded by
 * server.shutdown_timeout_ms), then close Nest, the database pool and the embedded database.
 */
export function installGracefulShutdown(opsdeck: OpsDeckApp, server: Server): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const { logger, config } = opsdeck;
    logger.info({ signal }, 'shutting down: no new connections, draining in-flight requests');
    drain(server, config.server.shutdown_timeout_ms)
      .then((drained) => {
        if (!drained) logger.warn('shutdown timeout reached: closing remaining connections');
        return opsdeck.close();
      })
      .then(() => {
        logger.info('shutdown complete');
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** Resolves true when every connection closed by itself, false when the deadline forced them shut. */
export function drain(server: Server, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => {
      clearInterval(idleSweep);
      server.closeAllConnections();
      resolve(false);
    }, timeoutMs);
    server.close(() => {
      clearTimeout(deadline);
      clearInterval(idleSweep);
      resolve(true);
    });
    // Keep-alive connections with no request in flight would otherwise hold the server open, and a connection
    // whose last request finishes during the drain becomes one of them.
    server.closeIdleConnections();
    const idleSweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  });
}

const IDLE_SWEEP_MS = 50;
