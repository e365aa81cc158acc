import { HttpStatus } from '@nestjs/common';
import { AppError } from './app-error.js';

/** Shorthands for the errors services raise; codes are `<RESOURCE>.<REASON>`. */
export const Errors = {
  notFound: (resource: string): AppError =>
    new AppError(HttpStatus.NOT_FOUND, `${resource.toUpperCase()}.NOT_FOUND`, `No such ${resource}`),

  conflict: (code: string, field: string, message: string): AppError =>
    new AppError(HttpStatus.CONFLICT, code, message, [{ field, messages: [message] }]),

  badReference: (code: string, field: string, message: string): AppError =>
    new AppError(HttpStatus.BAD_REQUEST, code, message, [{ field, messages: [message] }]),

  forbidden: (code: string, message: string, fields: readonly string[] = []): AppError =>
    new AppError(
      HttpStatus.FORBIDDEN,
      code,
      message,
      fields.length > 0 ? fields.map((field) => ({ field, messages: [`only an admin may set ${field}`] })) : null,
    ),

  rule: (code: string, message: string): AppError => new AppError(HttpStatus.UNPROCESSABLE_ENTITY, code, message),

  unauthorized: (message = 'Valid credentials are required', code = 'UNAUTHORIZED'): AppError =>
    new AppError(HttpStatus.UNAUTHORIZED, code, message),
};
