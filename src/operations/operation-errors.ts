import { HttpException } from '@nestjs/common';
import { AppError } from '../common/errors/app-error.js';
import { defaultErrorCode } from '../common/errors/error-codes.js';
import type { OperationError } from './entities/operation.entity.js';

/** Errors that know the stable reason a client branches on (LXC and SSH failures). */
export interface ReasonedError {
  readonly reason: string;
}

function hasReason(error: unknown): error is ReasonedError {
  return typeof (error as ReasonedError | null)?.reason === 'string';
}

/** What a failed run stores: the same code and message the route would have answered, nothing internal. */
export function toOperationError(error: unknown): OperationError {
  const reason = hasReason(error) ? { reason: error.reason } : {};
  if (error instanceof AppError) {
    return { code: error.code, message: error.message, status: error.getStatus(), ...reason };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return { code: defaultErrorCode(status), message: error.message, status, ...reason };
  }
  return { code: 'INTERNAL_ERROR', message: 'The operation failed unexpectedly', status: 500, ...reason };
}

export const INTERRUPTED: OperationError = {
  code: 'OPERATION.INTERRUPTED',
  message: 'The service stopped before the operation finished',
  reason: 'interrupted',
};
