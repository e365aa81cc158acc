import { readFileSync } from 'node:fs';
import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import type { FastifyBodyParser } from 'fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { requireJsonBodies, XML_BODY_MEDIA_TYPES } from './common/http/json-content-type.middleware.js';
import { observeRequests } from './common/http/request-observer.middleware.js';
import { RequestValidationPipe } from './common/http/validation.pipe.js';
import { createLogger } from './common/logging/logger.js';
import { PinoNestLogger } from './common/logging/nest-logger.js';
import { ConfigValidationError } from './config/config.loader.js';
import type { AppConfig } from './config/config.schema.js';
import { openDatabaseTarget, type OpenedDatabaseTarget } from './database/database-target.js';
import { SocketIoAdapter } from './events/socket-io.adapter.js';
import { MetricsService } from './metrics/metrics.service.js';
import { MAX_RELEASE_HISTORY_BYTES } from './sites/release-history/release-history.parser.js';
import { buildOpenApiDocument, mountOpenApiDocs } from './openapi.js';

export const API_PREFIX = 'api/v1';

export interface ServedRoute {
  readonly method: string;
  readonly url: string;
}

export interface CreateAppOptions {
  readonly logger?: Logger;
  readonly extraModules?: ReadonlyArray<Type<unknown> | DynamicModule>;
  /** False builds routes and documents without touching a database (OpenAPI generation). */
  readonly connectDatabase?: boolean;
  /** False skips creating the first admin at start-up (the create-admin CLI does it itself). */
  readonly bootstrapAdmin?: boolean;
}

/** A configured, initialised application and what must be closed after it. */
export interface OpsDeckApp {
  readonly app: NestFastifyApplication;
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly database: OpenedDatabaseTarget;
  /** The OpenAPI document served at /api/docs-json and committed as openapi/openapi.json. */
  readonly openApiDocument: OpenAPIObject;
  /** Every route the HTTP server serves, as registered (`/api/v1/users/:user_id`); HEAD twins of GETs included. */
  readonly routes: readonly ServedRoute[];
  /** Closes Nest (and with it the pool), then the embedded database server. */
  close(): Promise<void>;
}

export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<OpsDeckApp> {
  const logger = options.logger ?? (await createLogger(config));
  const connect = options.connectDatabase ?? true;
  const database: OpenedDatabaseTarget = connect
    ? await openDatabaseTarget(config)
    : { url: 'postgresql://unused/unused', embedded: false, close: () => Promise.resolve() };
  try {
    const tls = readTlsOptions(config);
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot({
        config,
        logger,
        database,
        extraModules: options.extraModules,
        connectDatabase: connect,
        bootstrapAdmin: connect && (options.bootstrapAdmin ?? true),
      }),
      new FastifyAdapter({
        ...(tls ? { https: tls } : {}),
        trustProxy: config.server.trust_proxy,
        bodyLimit: config.server.body_limit_bytes,
        // Hostile path parameters (long container names, say) must reach validation and get their 400.
        routerOptions: { maxParamLength: 2048, ignoreTrailingSlash: true },
        return503OnClosing: false,
      }),
      {
        // The body parsers are ours (configureApp).
        bodyParser: false,
        logger: new PinoNestLogger(logger),
        abortOnError: false,
      },
    );
    const routes: ServedRoute[] = [];
    app.getHttpAdapter().getInstance().addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
    const openApiDocument = configureApp(app, config, logger);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return {
      app,
      config,
      logger,
      database,
      openApiDocument,
      routes,
      close: async () => {
        await app.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Everything between the socket and the controllers, in the order requests meet it. */
function configureApp(app: NestFastifyApplication, config: AppConfig, logger: Logger): OpenAPIObject {
  const fastify = app.getHttpAdapter().getInstance();
  observeRequests(fastify, logger, app.get(MetricsService));
  // helmet itself, built once: @fastify/helmet builds a new helmet (CSP directives parsed again) per request.
  const setSecurityHeaders = helmet({
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    frameguard: { action: 'deny' },
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Swagger UI styles itself inline.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
      },
    },
  });
  fastify.addHook('onRequest', (request, reply, done) => setSecurityHeaders(request.raw, reply.raw, () => done()));
  if (config.server.cors_origins.length > 0) {
    app.enableCors({
      origin: config.server.cors_origins,
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'Location'],
      maxAge: 600,
    });
  }
  fastify.addHook('onRequest', requireJsonBodies);
  // JSON bodies: Fastify's parser (which refuses __proto__ and constructor.prototype keys) for application/json
  // and application/*+json; an empty body is an empty object, so validation names the missing fields.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  const parseJsonOrEmpty: FastifyBodyParser<string> = (request, body, done) =>
    body === '' ? done(null, {}) : parseJson(request, body, done);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonOrEmpty);
  fastify.addContentTypeParser(/^application\/[^;\s]+\+json(\s*;.*)?$/i, { parseAs: 'string' }, parseJsonOrEmpty);
  // Only the release-history route gets past requireJsonBodies with an XML body.
  fastify.addContentTypeParser(XML_BODY_MEDIA_TYPES, { parseAs: 'string', bodyLimit: MAX_RELEASE_HISTORY_BYTES }, (_request, body, done) => done(null, body));
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'api/health', method: RequestMethod.GET },
      { path: 'api/metrics', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(new RequestValidationPipe());
  app.useWebSocketAdapter(new SocketIoAdapter(app, config, logger));
  const document = buildOpenApiDocument(app, config);
  mountOpenApiDocs(app, document);
  return document;
}

function readTlsOptions(config: AppConfig): { cert: Buffer; key: Buffer } | undefined {
  const { cert_file: certFile, key_file: keyFile } = config.tls;
  if (!certFile || !keyFile) return undefined;
  const read = (path: string, key: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigValidationError([`${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
  };
  return { cert: read(certFile, 'tls.cert_file (TLS_CERT_FILE)'), key: read(keyFile, 'tls.key_file (TLS_KEY_FILE)') };
}
