import { readFileSync } from 'node:fs';
import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { OpenAPIObject } from '@nestjs/swagger';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { writeErrorEnvelope } from './common/errors/all-exceptions.filter.js';
import { observeRequests } from './common/http/request-observer.middleware.js';
import { requireJsonBodies, XML_BODY_MEDIA_TYPES } from './common/http/json-content-type.middleware.js';
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
  readonly app: NestExpressApplication;
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly database: OpenedDatabaseTarget;
  /** The OpenAPI document served at /api/docs-json and committed as openapi/openapi.json. */
  readonly openApiDocument: OpenAPIObject;
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
    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({
        config,
        logger,
        database,
        extraModules: options.extraModules,
        connectDatabase: connect,
        bootstrapAdmin: connect && (options.bootstrapAdmin ?? true),
      }),
      {
        bodyParser: false,
        logger: new PinoNestLogger(logger),
        abortOnError: false,
        httpsOptions: readTlsOptions(config),
      },
    );
    const openApiDocument = configureApp(app, config, logger);
    await app.init();
    answerUnroutedRequests(app, logger);
    return {
      app,
      config,
      logger,
      database,
      openApiDocument,
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
function configureApp(app: NestExpressApplication, config: AppConfig, logger: Logger): OpenAPIObject {
  app.set('trust proxy', config.server.trust_proxy);
  app.disable('x-powered-by');
  // Express hashes every response body for a weak ETag; API clients here never send If-None-Match, so it was
  // pure CPU (a SHA-1 of each JSON body).
  app.set('etag', false);
  app.use(observeRequests(logger, app.get(MetricsService)));
  app.use(
    helmet({
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
    }),
  );
  if (config.server.cors_origins.length > 0) {
    app.enableCors({
      origin: config.server.cors_origins,
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'Location'],
      maxAge: 600,
    });
  }
  app.use(requireJsonBodies);
  app.useBodyParser('json', { limit: config.server.body_limit_bytes });
  // Only the release-history route gets past requireJsonBodies with an XML body.
  app.useBodyParser('text', { type: XML_BODY_MEDIA_TYPES, limit: MAX_RELEASE_HISTORY_BYTES });
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

/**
 * Nest's own not-found handler covers only the /api/v1 prefix; these answer every other path (and any error
 * that escaped Nest) with the error envelope instead of Express's HTML page.
 */
function answerUnroutedRequests(app: NestExpressApplication, logger: Logger): void {
  app.use((request: Request, response: Response) => {
    writeErrorEnvelope(request, response, {
      status: 404,
      code: 'NOT_FOUND',
      message: `Cannot ${request.method} ${request.path}`,
      details: null,
    });
  });
  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    logger.error({ err: error }, 'unhandled error outside the router');
    writeErrorEnvelope(request, response, { status: 500, code: 'INTERNAL_ERROR', message: 'Internal server error', details: null });
  });
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
