import { HttpStatus, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { AppError, type ErrorDetail } from '../errors/app-error.js';

/** Flattens class-validator's tree into one entry per offending field, with dotted paths (`modules.3.name`). */
export function flattenValidationErrors(errors: readonly ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own: ErrorDetail[] = error.constraints
      ? [{ field, messages: Object.values(error.constraints) }]
      : [];
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** The global pipe: unknown fields refused, values converted to the DTO's types, one error shape. */
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) =>
        new AppError(
          HttpStatus.BAD_REQUEST,
          'VALIDATION_FAILED',
          'Request validation failed',
          flattenValidationErrors(errors),
        ),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Only a whole body bound to a DTO class must be an object; `@Body('name')` picks a single value.
    const isPrimitive = [String, Number, Boolean, Array].includes(metadata.metatype as never);
    const expectsObject =
      metadata.type === 'body' && metadata.data === undefined && metadata.metatype !== undefined && !isPrimitive;
    if (expectsObject && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new AppError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Request body must be a JSON object', [
        { field: '', messages: ['body must be a JSON object'] },
      ]);
    }
    return super.transform(value, metadata);
  }
}
