import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OpenAPIObject } from '@nestjs/swagger';
import { API_KEY_AUTH, BEARER_AUTH } from '../../src/common/openapi/endpoint.decorator.js';
import { expectErrorEnvelope, type HttpResponse } from '../support/http-assertions.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type HttpMethod = (typeof HTTP_METHODS)[number];

interface Operation {
  readonly method: HttpMethod;
  /** As documented: /api/v1/users/{user_id} */
  readonly path: string;
  readonly security: unknown;
}

/** Public without credentials: health, login (DESIGN.md §3 and issue 3: "health, login and docs excepted"). */
const ALWAYS_PUBLIC = new Set(['GET /api/health', 'GET /api/v1/health', 'POST /api/v1/auth/login']);
const METRICS = 'GET /api/metrics';

const key = (operation: Pick<Operation, 'method' | 'path'>): string => `${operation.method.toUpperCase()} ${operation.path}`;

function operationsOf(document: OpenAPIObject): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => item[method] !== undefined).map((method) => ({
      method,
      path,
      security: (item[method] as { security?: unknown }).security,
    })),
  );
}

/** Every path parameter becomes a random UUID, so nothing is refused for a malformed id before authentication. */
const concrete = (path: string): string => path.replace(/\{[^}]+\}/g, () => randomUUID());

function call(t: TestApp, operation: Operation, headers: Record<string, string> = {}): Promise<HttpResponse> {
  const url = concrete(operation.path);
  const request = t.http[operation.method](url).set(headers);
  return ['post', 'put', 'patch'].includes(operation.method) ? request.send({}) : request;
}

/**
 * The routes Fastify really serves (method + path, in OpenAPI notation), whatever the document says; the HEAD
 * twins Fastify adds to GET routes are left out. A wildcard route would be a catch-all; those are returned apart.
 */
function servedRoutes(t: TestApp): { routes: string[]; catchAllPaths: string[] } {
  const routes: string[] = [];
  const catchAllPaths: string[] = [];
  for (const { method, url } of t.opsdeck.routes) {
    if (method === 'HEAD' || url.startsWith('/api/docs')) continue;
    const openApiPath = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    if (url.includes('*')) catchAllPaths.push(openApiPath);
    else routes.push(`${method} ${openApiPath}`);
  }
  return { routes, catchAllPaths };
}

describe('route walk: every documented operation refuses anonymous callers', () => {
  let t: TestApp;
  let operations: Operation[];

  beforeAll(async () => {
    t = await startTestApp();
    operations = operationsOf(t.opsdeck.openApiDocument);
  });

  afterAll(async () => {
    await t.close();
  });

  it('finds at least 20 operations, the public ones among them', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    const keys = operations.map(key);
    for (const publicOperation of [...ALWAYS_PUBLIC, METRICS]) expect(keys).toContain(publicOperation);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('documents every route the server actually serves (nothing escapes the walk)', async () => {
    const documented = new Set(operations.map(key));
    const { routes, catchAllPaths } = servedRoutes(t);
    expect(routes.length).toBeGreaterThanOrEqual(operations.length);
    expect(routes.filter((route) => !documented.has(route))).toEqual([]);
    // Catch-all layers must not serve anything to an anonymous caller.
    for (const path of catchAllPaths) {
      for (const method of ['post', 'put', 'patch', 'delete'] as const) {
        const response = await t.http[method](concrete(path)).send({});
        const route = `${method.toUpperCase()} ${path}`;
        expect({ route, refused: [401, 404].includes(response.status) }).toEqual({ route, refused: true });
      }
    }
  });

  it('answers 401 in the error envelope to every non-public operation called without credentials', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const operation of operations) {
      if (ALWAYS_PUBLIC.has(key(operation))) continue;
      const response = await call(t, operation);
      checked += 1;
      if (response.status !== 401) {
        wrong.push(`${key(operation)} -> ${response.status} ${JSON.stringify(response.body)}`);
        continue;
      }
      expectErrorEnvelope(response, 401, 'UNAUTHORIZED');
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(17);
  });

  it.each([
    ['a garbage bearer token', { Authorization: 'Bearer garbage' }],
    ['a malformed JWT', { Authorization: 'Bearer aaaa.bbbb.cccc' }],
    ['an unknown API key', { 'X-API-Key': `odk_${'x'.repeat(43)}` }],
    ['an unknown key as bearer', { Authorization: `Bearer odk_${'y'.repeat(43)}` }],
    ['basic credentials', { Authorization: `Basic ${Buffer.from('admin@opsdeck.test:admin-password-for-tests').toString('base64')}` }],
  ])('answers 401 to every non-public operation called with %s', async (_label, headers) => {
    const wrong: string[] = [];
    for (const operation of operations) {
      if (ALWAYS_PUBLIC.has(key(operation))) continue;
      const response = await call(t, operation, headers);
      if (response.status !== 401 || response.body?.error !== 'UNAUTHORIZED') wrong.push(`${key(operation)} -> ${response.status}`);
    }
    expect(wrong).toEqual([]);
  });

  it('serves the public operations without credentials', async () => {
    await t.http.get('/api/health').expect(200);
    await t.http.get('/api/v1/health').expect(200);
    // Login is reachable: an empty body is a validation error, not an authentication one.
    expectErrorEnvelope(await t.http.post('/api/v1/auth/login').send({}), 400, 'VALIDATION_FAILED');
    // The docs too.
    await t.http.get('/api/docs-json').expect(200);
    await t.http.get('/api/docs').redirects(1).expect(200);
  });

  it('keeps /api/metrics closed by default (METRICS_PUBLIC unset)', async () => {
    expect(t.opsdeck.config.metrics.public).toBe(false);
    expectErrorEnvelope(await t.http.get('/api/metrics'), 401, 'UNAUTHORIZED');
  });

  it('documents the credentials of every non-public operation, and none for the public ones', () => {
    for (const operation of operations) {
      if (ALWAYS_PUBLIC.has(key(operation))) {
        expect({ operation: key(operation), security: operation.security ?? [] }).toEqual({ operation: key(operation), security: [] });
      } else {
        expect({ operation: key(operation), security: operation.security }).toEqual({
          operation: key(operation),
          security: expect.arrayContaining([{ [BEARER_AUTH]: [] }, { [API_KEY_AUTH]: [] }]),
        });
        const responses = t.opsdeck.openApiDocument.paths[operation.path][operation.method]?.responses ?? {};
        expect({ operation: key(operation), has401: '401' in responses }).toEqual({ operation: key(operation), has401: true });
      }
    }
  });
});

describe('route walk with METRICS_PUBLIC=true', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_PUBLIC: 'true' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('serves /api/metrics without credentials and still refuses everything else that is not public', async () => {
    const metrics = await t.http.get('/api/metrics').expect(200);
    expect(metrics.text).toContain('http_requests_total');

    const wrong: string[] = [];
    for (const operation of operationsOf(t.opsdeck.openApiDocument)) {
      if (ALWAYS_PUBLIC.has(key(operation)) || key(operation) === METRICS) continue;
      const response = await call(t, operation);
      if (response.status !== 401) wrong.push(`${key(operation)} -> ${response.status}`);
    }
    expect(wrong).toEqual([]);
  });
});
