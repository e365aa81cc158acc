import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { MetricsService } from '../../metrics/metrics.service.js';
import { requestContext, type RequestContext } from './request-context.js';
import { REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';

const contexts = new WeakMap<FastifyRequest, RequestContext>();

/** Route templates only: unmatched paths share one label so a scanner cannot blow up metric cardinality. */
function routeOf(request: FastifyRequest): string {
  const route = request.routeOptions.url;
  // Nest answers unknown paths from its not-found handler, which has no route.
  return typeof route === 'string' && !route.includes('*') ? route : 'unmatched';
}

/**
 * The first hooks: set the request id (header, log context), and when the response is done write one
 * access-log line and the request metrics.
 *
 * The request context is entered in onRequest and again in preValidation: Fastify reads a body from stream
 * events, whose callbacks do not carry the asynchronous context of the hook that started the read.
 */
export function observeRequests(fastify: FastifyInstance, logger: Logger, metrics: MetricsService): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const requestId = resolveRequestId(request.headers[REQUEST_ID_HEADER]);
    const context: RequestContext = { requestId, ip: request.ip, userAgent: request.headers['user-agent']?.slice(0, 500) };
    contexts.set(request, context);
    reply.header('X-Request-Id', requestId);
    requestContext.run(context, done);
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    const context = contexts.get(request);
    if (context) requestContext.run(context, done);
    else done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const context = contexts.get(request);
    const durationSeconds = reply.elapsedTime / 1000;
    const route = routeOf(request);
    const status = reply.statusCode;
    metrics.observeRequest({ method: request.method, route, status, durationSeconds });
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    // At LOG_LEVEL=warn most lines are dropped; do not build them first.
    if (logger.isLevelEnabled(level)) {
      logger[level](
        {
          request_id: context?.requestId,
          method: request.method,
          route,
          path: request.url.split('?')[0],
          status,
          duration_ms: Math.round(durationSeconds * 1e5) / 100,
          // Fastify derives request.ip (trust proxy, X-Forwarded-For) on every read: onRequest kept it.
          ip: context?.ip ?? request.ip,
        },
        'request completed',
      );
    }
    done();
  });
}
