import { ValidateBy, type ValidationOptions } from 'class-validator';
import { parseDrupalVersion } from './drupal-version.js';

const MESSAGE = 'must be a Drupal version such as 8.x-1.2, 1.2.3, 10.2.0-rc1 or 1.x-dev';

/** A version string Drupal writes: the full parse, not just the loose pattern (so `8.x-1` or `1.x` are refused). */
export function IsDrupalVersion(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isDrupalVersion',
      validator: {
        validate: (value: unknown): boolean => typeof value === 'string' && parseDrupalVersion(value) !== null,
        defaultMessage: (arguments_) => `${arguments_?.property ?? 'version'} ${MESSAGE}`,
      },
    },
    options,
  );
}
