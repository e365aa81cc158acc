import { HttpStatus, Param, type PipeTransform } from '@nestjs/common';
import { AppError } from '../errors/app-error.js';

/** A path parameter checked against a pattern before any handler runs; anything else is a 400 naming it. */
export const PatternParam = (name: string, pattern: RegExp, rule: string): ParameterDecorator => {
  const check: PipeTransform<string, string> = {
    transform: (value) => {
      if (typeof value === 'string' && pattern.test(value)) return value;
      throw new AppError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `${name} must be ${rule}`, [
        { field: name, messages: [`${name} must be ${rule}`] },
      ]);
    },
  };
  return Param(name, check);
};
