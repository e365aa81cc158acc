import { ValidateIf, type ValidationOptions } from 'class-validator';

/**
 * An update field that may be left out but, when present, must pass its other rules.
 * Unlike @IsOptional(), null is not a way to skip validation: `{"role": null}` is refused.
 */
export function IsOmittable(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined, options);
}
