import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { AppConfig } from './config/config.schema.js';
import { API_KEY_AUTH, BEARER_AUTH } from './common/openapi/endpoint.decorator.js';

export const DOCS_PATH = 'api/docs';
export const DOCS_JSON_PATH = 'api/docs-json';

export function buildOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('OpsDeck API')
    .setDescription(
      'One API for Drupal sites, LXC containers and Dell iDRAC controllers. Successful responses use the ' +
        '`{data, meta, links}` envelope; every error uses the error envelope.',
    )
    .setVersion(config.app.version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_AUTH)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_AUTH)
    .build();
  return SwaggerModule.createDocument(app, builder, {
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}

export function mountOpenApiDocs(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: DOCS_JSON_PATH,
    useGlobalPrefix: false,
    yamlDocumentUrl: `${DOCS_PATH}-yaml`,
  });
}
