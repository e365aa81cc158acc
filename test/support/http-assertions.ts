import { createHash } from 'node:crypto';
import { expect } from '@jest/globals';
import type supertest from 'supertest';
import { bearer } from './identity.js';
import type { TestApp } from './test-app.js';

export type HttpResponse = supertest.Response;

export const ERROR_ENVELOPE_KEYS = ['status_code', 'error', 'message', 'details', 'timestamp', 'request_id', 'path'].sort();

/** The error envelope of DESIGN.md §3, exactly: its seven fields, the status, and the request id of the header. */
export function expectErrorEnvelope(response: HttpResponse, status: number, error?: string | RegExp): void {
  expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status });
  const body = response.body as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(ERROR_ENVELOPE_KEYS);
  expect(body.status_code).toBe(status);
  expect(typeof body.error).toBe('string');
  if (typeof error === 'string') expect(body.error).toBe(error);
  if (error instanceof RegExp) expect(body.error).toMatch(error);
  expect(typeof body.message).toBe('string');
  expect(new Date(body.timestamp as string).toISOString()).toBe(body.timestamp);
  expect(body.request_id).toBe(response.headers['x-request-id']);
  expect(typeof body.path).toBe('string');
  expect(body.path).toMatch(/^\/api\//);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns a value (not undefined), for effects written just after the response. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 3_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

export interface AuditRow {
  readonly id: string;
  readonly occurred_at: string;
  readonly actor: { readonly type: string; readonly id: string | null; readonly label: string | null };
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

/** GET /api/v1/audit-logs with the given filters (per_page 100 unless given), as the given admin credentials. */
export async function auditRows(
  t: Pick<TestApp, 'http'>,
  token: string,
  query: Record<string, string | number>,
): Promise<{ rows: AuditRow[]; meta: Record<string, unknown>; response: HttpResponse }> {
  const response = await t.http.get('/api/v1/audit-logs').query({ per_page: 100, ...query }).set(bearer(token));
  expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
  return { rows: response.body.data as AuditRow[], meta: response.body.meta as Record<string, unknown>, response };
}

/** Waits for an audit row (some refusals are recorded just after the response is written). */
export function eventuallyAuditRow(
  t: Pick<TestApp, 'http'>,
  token: string,
  query: Record<string, string | number>,
  match: (row: AuditRow) => boolean,
): Promise<AuditRow> {
  return eventually(
    async () => (await auditRows(t, token, query)).rows.find(match),
    3_000,
    `audit row for ${JSON.stringify(query)}`,
  );
}
