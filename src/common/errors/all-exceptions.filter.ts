import { ArgumentsHost, Catch, HttpException, HttpStatus, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply as Response, FastifyRequest as Request } from 'fastify';
import type { Logger } from 'pino';
import type { AuditService } from '../../audit/audit.service.js';
import { RateLimitExceededError } from '../rate-limit/rate-limit.service.js';
import { isDatabaseUnavailable, violatedUniqueIndex } from '../../database/database-errors.js';
import { requestContext } from '../http/request-context.js';
import { AppError, type ErrorDetail } from './app-error.js';
import { uniquenessConflict, uniquenessRuleOfIndex } from './uniqueness.js';
import { defaultErrorCode } from './error-codes.js';
import type { ErrorEnvelope } from './error-envelope.js';

export interface ResolvedError {
  status: number;
  code: string;
  message: string;
  details: ErrorEnvelope['details'];
}

const MALFORMED_JSON = { status: 400, code: 'MALFORMED_JSON', message: 'Request body is not valid JSON' };

/** Errors Fastify raises before Nest's router (body reading and parsing) carry a `code` instead of being HttpExceptions. */
const LOW_LEVEL_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: MALFORMED_JSON,
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', message: 'Request body is empty but declared as JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST', message: 'Request size did not match Content-Length' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported media type' },
};

/** Turns every error into the error envelope; internals of unexpected errors stay in the log. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly auditService?: AuditService,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') {
      // Socket.IO handlers answer their own errors in acknowledgements; anything reaching here is a bug.
      this.logger.error({ err: exception, transport: host.getType() }, 'unhandled error in a non-HTTP handler');
      return;
    }
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const resolved = this.resolve(exception);

    if (resolved.status >= 500) {
      this.logger.error({ err: exception, status: resolved.status }, 'request failed');
    }
    if (exception instanceof RateLimitExceededError) {
      response.header('Retry-After', String(exception.state.resetSeconds));
    }
    // A refused or failed attempt at an audited action still leaves its row (401, 403, 404, 409, ...).
    this.auditService?.recordFailure(resolved.status).catch((error: unknown) => {
      this.logger.error({ err: error }, 'could not write the audit row of a failed request');
    });
    writeErrorEnvelope(request, response, resolved);
  }

  private resolve(exception: unknown): ResolvedError {
    if (exception instanceof AppError) {
      return {
        status: exception.getStatus(),
        code: exception.code,
        message: exception.message,
        details: exception.details,
      };
    }
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception);
    }
    const lowLevel = this.fromLowLevelError(exception);
    if (lowLevel) return lowLevel;
    const index = violatedUniqueIndex(exception);
    const rule = index === null ? null : uniquenessRuleOfIndex(index);
    if (rule) return this.resolve(uniquenessConflict(rule));
    if (isDatabaseUnavailable(exception)) {
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        code: 'DATABASE_UNAVAILABLE',
        message: 'The database is unavailable; try again shortly',
        details: null,
      };
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      code: 'INTERNAL_ERROR',
      message: 'Internal server error',
      details: null,
    };
  }

  private fromHttpException(exception: HttpException): ResolvedError {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const cause = exception.cause;
    const lowLevel = cause === undefined ? undefined : this.fromLowLevelError(cause);
    if (lowLevel) return lowLevel;

    let message = exception.message;
    let details: ErrorDetail[] | null = null;
    if (typeof body === 'object' && body !== null) {
      const { message: bodyMessage } = body as { message?: unknown };
      if (typeof bodyMessage === 'string') message = bodyMessage;
      if (Array.isArray(bodyMessage)) {
        details = [{ field: '', messages: bodyMessage.map(String) }];
        message = 'Request validation failed';
      }
    }
    if (status >= 500) message = status === 500 ? 'Internal server error' : message;
    return { status, code: defaultErrorCode(status), message, details };
  }

  private fromLowLevelError(error: unknown): ResolvedError | undefined {
    if (typeof error !== 'object' || error === null) return undefined;
    const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
    if (typeof code === 'string' && Object.hasOwn(LOW_LEVEL_ERRORS, code)) {
      return { ...LOW_LEVEL_ERRORS[code], details: null };
    }
    // Fastify's JSON parser: a SyntaxError (or a refused __proto__ / constructor.prototype key) marked 400.
    if (error instanceof SyntaxError && statusCode === 400) return { ...MALFORMED_JSON, details: null };
    return undefined;
  }
}

/** Writes the error envelope; also used for requests that never reach Nest's router. */
export function writeErrorEnvelope(request: Request, response: Response, error: ResolvedError): void {
  if (response.sent || response.raw.headersSent) {
    if (!response.raw.writableEnded) response.raw.end();
    return;
  }
  const body: ErrorEnvelope = {
    status_code: error.status,
    error: error.code,
    message: error.message,
    details: error.details,
    timestamp: new Date().toISOString(),
    request_id: requestContext.current()?.requestId ?? '',
    path: request.url.split('?')[0] ?? '',
  };
  response.status(error.status).header('Content-Type', 'application/json; charset=utf-8').send(body);
}
