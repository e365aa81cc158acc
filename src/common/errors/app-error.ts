import { HttpException, HttpStatus } from '@nestjs/common';

export interface ErrorDetail {
  /** Dotted path of the offending input (`modules.3.name`), or the resource it concerns. */
  readonly field: string;
  readonly messages: readonly string[];
}

/**
 * An error with a stable machine-readable code (`VALIDATION_FAILED`, `SITE.URL_TAKEN`); services throw it
 * and the exception filter turns it into the error envelope.
 */
export class AppError extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: string,
    message: string,
    readonly details: readonly ErrorDetail[] | Record<string, unknown> | null = null,
  ) {
    super(message, status);
  }
}
