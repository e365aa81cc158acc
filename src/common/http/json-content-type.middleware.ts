import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { HttpStatus } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** The one route whose body is XML: Drupal release histories (POST /api/v1/release-history). */
export const XML_BODY_ROUTE = { method: 'POST', path: '/api/v1/release-history' } as const;
export const XML_BODY_MEDIA_TYPES = ['application/xml', 'text/xml'];

/** True when the request says it carries a body (a length above zero, or a chunked one). */
export function declaresBody(headers: FastifyRequest['headers']): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/** The media type of a Content-Type header, lower-case, without parameters (charset). */
function mediaTypeOf(contentType: string | undefined): string {
  return contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
}

/** application/json or application/<anything>+json. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const mediaType = mediaTypeOf(contentType);
  return mediaType === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(mediaType);
}

/** True when the request declares one of `mediaTypes`. */
export function hasMediaType(contentType: string | undefined, mediaTypes: readonly string[]): boolean {
  return mediaTypes.includes(mediaTypeOf(contentType));
}

function isXmlBodyRoute(request: FastifyRequest): boolean {
  const rawPath = request.url.split('?')[0] ?? '';
  const path = rawPath.length > 1 ? rawPath.replace(/\/$/, '') : rawPath;
  return request.method === XML_BODY_ROUTE.method && path.toLowerCase() === XML_BODY_ROUTE.path;
}

/**
 * An onRequest hook. The API speaks JSON only: a body in any other media type is refused before anything
 * parses it. The release-history import is the exception: it takes XML only, and refuses anything else itself.
 */
export function requireJsonBodies(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  // That route checks its own media type once the caller is authenticated (see ReleaseHistoryController).
  if (!METHODS_WITH_BODY.has(request.method) || !declaresBody(request.headers) || isXmlBodyRoute(request)) {
    done();
    return;
  }
  if (!isJsonMediaType(request.headers['content-type'])) {
    done(new AppError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be application/json'));
    return;
  }
  done();
}
