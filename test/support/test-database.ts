/**
 * Which PostgreSQL the e2e tests use: TEST_DATABASE_URL (CI creates a fresh database per run), otherwise a
 * throw-away embedded PGlite per test file. A URL whose database name does not say "test" is refused so a
 * test can never truncate a real database.
 */
export function testDatabaseUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return undefined;
  const name = new URL(url).pathname.replace(/^\//, '');
  if (!/test/i.test(name)) {
    throw new Error(`Refusing to run tests against database "${name}": its name must contain "test"`);
  }
  return url;
}

/**
 * `it` when the tests have a database several application instances can share (TEST_DATABASE_URL), else
 * `it.skip`: each embedded PGlite belongs to one instance. CI sets TEST_DATABASE_URL, so these always run there.
 */
export function withSharedDatabase<T extends { skip: unknown }>(run: T): T | T['skip'] {
  return testDatabaseUrl() ? run : run.skip;
}
