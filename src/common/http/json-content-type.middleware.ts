import type { NextFunction, Request, Response } from 'express';
import { HttpStatus } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** The one route whose body is XML: Drupal release histories (POST /api/v1/release-history). */
export const XML_BODY_ROUTE = { method: 'POST', path: '/api/v1/release-history' } as const;
export const XML_BODY_MEDIA_TYPES = ['application/xml', 'text/xml'];

function isXmlBodyRoute(request: Request): boolean {
  const path = request.path.length > 1 ? request.path.replace(/\/$/, '') : request.path;
  return request.method === XML_BODY_ROUTE.method && path.toLowerCase() === XML_BODY_ROUTE.path;
}

/**
 * The API speaks JSON only: a body in any other media type is refused before anything parses it. The
 * release-history import is the exception: it takes XML only, and refuses anything else itself.
 */
export function requireJsonBodies(request: Request, _response: Response, next: NextFunction): void {
  const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  if (!METHODS_WITH_BODY.has(request.method) || !hasBody) {
    next();
    return;
  }
  // That route checks its own media type once the caller is authenticated (see ReleaseHistoryController).
  if (isXmlBodyRoute(request)) {
    next();
    return;
  }
  if (!request.is(['application/json', 'application/*+json'])) {
    next(
      new AppError(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'UNSUPPORTED_MEDIA_TYPE',
        'Request bodies must be application/json',
      ),
    );
    return;
  }
  next();
}
