import { expect } from '@jest/globals';
import { bearer } from './identity.js';
import type { TestApp } from './test-app.js';

/** The error envelope every refusal carries (DESIGN.md §3). */
export const ERROR_ENVELOPE_KEYS = ['details', 'error', 'message', 'path', 'request_id', 'status_code', 'timestamp'];

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
  // One comparison that prints the whole body when it fails.
  expect({ status: response.status, error: response.body.error, body: response.body }).toMatchObject({
    status,
    ...(error === undefined ? {} : { error }),
  });
  expect(Object.keys(response.body).sort()).toEqual(ERROR_ENVELOPE_KEYS);
  expect(response.body.status_code).toBe(status);
  expect(typeof response.body.message).toBe('string');
  expect(new Date(response.body.timestamp as string).toISOString()).toBe(response.body.timestamp);
  expect(response.body.request_id).toBe(response.headers['x-request-id']);
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

export interface AuditRow {
  readonly id: string;
  readonly occurred_at: string;
  readonly actor: { type: string; id: string | null; label: string | null };
  readonly organization_id: string | null;
  readonly action: string;
  readonly resource_type: string;
  readonly resource_id: string | null;
  readonly outcome: 'success' | 'failure';
  readonly status_code: number;
  readonly ip: string | null;
  readonly user_agent: string | null;
  readonly request_id: string | null;
  readonly changes: Record<string, unknown> | null;
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
