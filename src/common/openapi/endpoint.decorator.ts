import { applyDecorators, HttpCode, HttpStatus, type Type } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOperation,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import {
  ErrorEnvelopeDto,
  ItemLinksDto,
  ItemMetaDto,
  PageLinksDto,
  PageMetaDto,
} from './error-envelope.dto.js';

export const BEARER_AUTH = 'bearer';
export const API_KEY_AUTH = 'api_key';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed or invalid input; `details` names each offending field',
  401: 'Missing or invalid credentials',
  403: 'Authenticated but not allowed',
  404: 'No such resource (or not visible to the caller)',
  409: 'Conflicts with an existing resource, or the resource is busy',
  413: 'Request body too large',
  415: 'Request body is not JSON',
  422: 'Valid input that breaks a business rule',
  429: 'Rate limit exceeded; see Retry-After',
  500: 'Unexpected error (no internals are returned)',
  503: 'A dependency (database, LXC, Redis) is unavailable',
  504: 'An upstream (SSH, LXC) timed out',
};

/** Every route can fail with these, whatever it does. */
const ALWAYS = [400, 500];

export interface EndpointOptions {
  readonly summary: string;
  readonly description?: string;
  /** The DTO inside `data`; omit for routes that answer `data: null`. */
  readonly response?: Type<unknown>;
  readonly status?: HttpStatus;
  readonly list?: boolean;
  /** Error statuses this route adds to the ones every route has. */
  readonly errors?: readonly number[];
  /** The route takes a JSON body, so it can also answer 413 and 415. */
  readonly hasBody?: boolean;
  /** For handlers marked @RawResponse: the media type they produce instead of the envelope. */
  readonly produces?: string;
}

/** Documents a route the same way everywhere: summary, envelope schema, error envelope. Security comes from @Authenticated. */
export function Endpoint(options: EndpointOptions): MethodDecorator {
  const status = options.status ?? HttpStatus.OK;
  const errorStatuses = [
    ...new Set([
      ...ALWAYS,
      ...(options.hasBody ? [413, 415] : []),
      ...(options.errors ?? []),
    ]),
  ].sort((a, b) => a - b);
  const decorators: Array<ClassDecorator | MethodDecorator | PropertyDecorator> = [
    ApiOperation({ summary: options.summary, description: options.description }),
    HttpCode(status),
    ApiExtraModels(ErrorEnvelopeDto, PageMetaDto, PageLinksDto, ItemMetaDto, ItemLinksDto),
    ...errorStatuses.map((code) =>
      ApiResponse({
        status: code,
        description: ERROR_DESCRIPTIONS[code] ?? 'Error',
        schema: { $ref: getSchemaPath(ErrorEnvelopeDto) },
      }),
    ),
  ];
  if (options.produces) {
    decorators.push(ApiResponse({ status, description: 'Success', content: { [options.produces]: { schema: { type: 'string' } } } }));
  } else {
    decorators.push(ApiResponse({ status, description: 'Success', schema: envelopeSchema(options) }));
  }
  if (options.response) decorators.push(ApiExtraModels(options.response));
  return applyDecorators(...decorators);
}

function envelopeSchema(options: EndpointOptions): Record<string, unknown> {
  const item = options.response ? { $ref: getSchemaPath(options.response) } : { type: 'object', nullable: true };
  return {
    type: 'object',
    required: ['data', 'meta', 'links'],
    properties: {
      data: options.list ? { type: 'array', items: item } : item,
      meta: { $ref: getSchemaPath(options.list ? PageMetaDto : ItemMetaDto) },
      links: { $ref: getSchemaPath(options.list ? PageLinksDto : ItemLinksDto) },
    },
  };
}
