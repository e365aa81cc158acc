import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { MetricsService } from '../../metrics/metrics.service.js';
import { requestContext } from './request-context.js';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';

/** Route templates only: unmatched paths share one label so a scanner cannot blow up metric cardinality. */
function routeOf(request: Request): string {
  const route = (request.route as { path?: unknown } | undefined)?.path;
  // Nest answers unknown paths from a catch-all `*path` route.
  return typeof route === 'string' && !route.includes('*') ? `${request.baseUrl}${route}` : 'unmatched';
}

/**
 * The first middleware: sets the request id (header, log context), and when the response is done writes one
 * access-log line and the request metrics.
 */
export function observeRequests(logger: Logger, metrics: MetricsService): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const requestId = resolveRequestId(request.headers[REQUEST_ID_HEADER]);
    const started = process.hrtime.bigint();
    // Express derives request.ip (trust proxy, X-Forwarded-For) on every read: once per request is enough.
    const ip = request.ip;
    response.setHeader('X-Request-Id', requestId);
    response.on('finish', () => {
      const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(request);
      const status = response.statusCode;
      metrics.observeRequest({ method: request.method, route, status, durationSeconds });
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      // At LOG_LEVEL=warn most lines are dropped; do not build them first.
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          request_id: requestId,
          method: request.method,
          route,
          path: request.originalUrl.split('?')[0],
          status,
          duration_ms: Math.round(durationSeconds * 1e5) / 100,
          ip,
        },
        'request completed',
      );
    });
    const userAgent = request.headers['user-agent']?.slice(0, 500);
    requestContext.run({ requestId, ip, userAgent }, next);
  };
}
