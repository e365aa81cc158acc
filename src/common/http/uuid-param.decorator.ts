import { HttpStatus, Param, ParseUUIDPipe } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';

/** A path parameter that must be a UUID; anything else is a 400 naming the parameter. */
export const UuidParam = (name: string): ParameterDecorator =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () =>
        new AppError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `${name} must be a UUID`, [
          { field: name, messages: [`${name} must be a UUID`] },
        ]),
    }),
  );
