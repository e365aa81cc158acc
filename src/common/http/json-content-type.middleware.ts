import type { NextFunction, Request, Response } from 'express';
import { HttpStatus } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** The API speaks JSON only: a body in any other media type is refused before anything parses it. */
export function requireJsonBodies(request: Request, _response: Response, next: NextFunction): void {
  const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  if (METHODS_WITH_BODY.has(request.method) && hasBody && !request.is(['application/json', 'application/*+json'])) {
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
