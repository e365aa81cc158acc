/**
 * Drupal version strings as sites and updates.drupal.org write them:
 * legacy contrib `8.x-1.2`, `8.x-1.2-beta1`, `7.x-3.x-dev`, `8.x-1.0+15-dev`;
 * semantic `1.2.3`, `10.2.0-rc1`, `2.1.x-dev`, `1.x-dev`; core `10.2.3`, `7.98`.
 */
export const DRUPAL_VERSION_PATTERN =
  /^(?:\d{1,3}\.x-)?\d{1,4}(?:\.(?:\d{1,4}|x)){0,2}(?:-(?:alpha|beta|rc|unstable)\d{1,4})?(?:\+\d{1,6})?(?:-dev)?$/;

export const MAX_DRUPAL_VERSION_LENGTH = 64;

export function isDrupalVersion(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_DRUPAL_VERSION_LENGTH && DRUPAL_VERSION_PATTERN.test(value);
}

/** Machine names: lower-case letters, digits and underscores, starting with a letter (Drupal's own rule). */
export const MACHINE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,127}$/;
