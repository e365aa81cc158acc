import { expect } from '@jest/globals';
import { expectErrorEnvelope, type AuditRow, type HttpResponse } from './http-assertions.js';
import { bearer } from './identity.js';
import type { TestApp } from './test-app.js';

export { ERROR_ENVELOPE_KEYS, type AuditRow } from './http-assertions.js';

export interface ErrorDetail {
  readonly field: string;
  readonly messages: readonly string[];
}

/** Asserts a complete error envelope with this status and code; returns the detail fields it names. */
export function expectError(
  response: { status: number; body: Record<string, unknown>; headers: Record<string, string | string[] | undefined> },
  status: number,
  error?: string,
): string[] {
  // One comparison that prints the whole body when it fails; then the envelope's shape.
  expect({ status: response.status, error: response.body.error, body: response.body }).toMatchObject({
    status,
    ...(error === undefined ? {} : { error }),
  });
  expectErrorEnvelope(response as HttpResponse, status, error);
  const details = response.body.details;
  return Array.isArray(details) ? (details as ErrorDetail[]).map((detail) => detail.field) : [];
}

/** Every key, at any depth, of a JSON value. */
export function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...allKeys(inner)]);
  }
  return [];
}

/** A user representation must never carry a password or a hash, under any key, at any depth. */
export function expectNoSecretKeys(body: unknown): void {
  const secretKeys = allKeys(body).filter((key) => /password|hash/i.test(key));
  expect(secretKeys).toEqual([]);
}

/**
 * The audit rows (as an admin reads them) matching the query and the predicate. Pages through the newest
 * rows and retries for a short while: a refused request's row may be written just after the response.
 */
export async function findAuditRows(
  t: TestApp,
  adminToken: string,
  query: Record<string, string>,
  predicate: (row: AuditRow) => boolean,
  options: { expectAtLeast?: number; maxPages?: number; waitMs?: number } = {},
): Promise<AuditRow[]> {
  const expectAtLeast = options.expectAtLeast ?? 1;
  const deadline = Date.now() + (options.waitMs ?? 3_000);
  for (;;) {
    const found: AuditRow[] = [];
    for (let page = 1; page <= (options.maxPages ?? 20); page += 1) {
      const response = await t.http
        .get('/api/v1/audit-logs')
        .query({ ...query, page: String(page), per_page: '100' })
        .set(bearer(adminToken));
      expect(response.status).toBe(200);
      const rows = response.body.data as AuditRow[];
      found.push(...rows.filter(predicate));
      if (page >= (response.body.meta.total_pages as number)) break;
    }
    if (found.length >= expectAtLeast || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The items of a list response, typed just enough to pick fields from them. */
export function items<T = { id: string }>(response: { body: unknown }): T[] {
  return (response.body as { data: T[] }).data;
}

/** The ids of a list response's items, in order. */
export const idsOf = (response: { body: unknown }): string[] => items(response).map((item) => item.id);
