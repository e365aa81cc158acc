import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ProbeModule } from '../support/probe.module.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ERROR_KEYS = ['details', 'error', 'message', 'path', 'request_id', 'status_code', 'timestamp'];

describe('HTTP contract plumbing', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ extraModules: [ProbeModule] });
  });

  afterAll(async () => {
    await t.close();
  });

  it('wraps a success in {data, meta, links} and echoes a generated request id', async () => {
    const response = await t.http.post('/api/v1/probe').send({ email: 'a@example.com', age: 3 }).expect(201);
    expect(response.body).toEqual({
      data: { email: 'a@example.com', age: 3 },
      meta: { request_id: response.headers['x-request-id'] },
      links: { self: '/api/v1/probe' },
    });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a sane caller request id in the header, the envelope and error bodies', async () => {
    const ok = await t.http.get('/api/v1/health').set('X-Request-Id', 'trace-abc.123').expect(200);
    expect(ok.headers['x-request-id']).toBe('trace-abc.123');
    expect(ok.body.meta.request_id).toBe('trace-abc.123');
    const missing = await t.http.get('/api/v1/missing').set('X-Request-Id', 'trace-xyz').expect(404);
    expect(missing.body.request_id).toBe('trace-xyz');
  });

  it('paginates with meta and links that keep other query parameters', async () => {
    const response = await t.http.get('/api/v1/probe/items?page=2&per_page=20&q=n').expect(200);
    expect(response.body.data).toHaveLength(20);
    expect(response.body.data[0]).toEqual({ n: 21 });
    expect(response.body.meta).toMatchObject({ page: 2, per_page: 20, total: 45, total_pages: 3 });
    expect(response.body.links).toEqual({
      self: '/api/v1/probe/items?page=2&per_page=20&q=n',
      first: '/api/v1/probe/items?page=1&per_page=20&q=n',
      prev: '/api/v1/probe/items?page=1&per_page=20&q=n',
      next: '/api/v1/probe/items?page=3&per_page=20&q=n',
      last: '/api/v1/probe/items?page=3&per_page=20&q=n',
    });
  });

  it('defaults to page 1 of 20', async () => {
    const response = await t.http.get('/api/v1/probe/items').expect(200);
    expect(response.body.meta).toMatchObject({ page: 1, per_page: 20 });
    expect(response.body.links.prev).toBeNull();
  });

  it('hides internals of unexpected errors behind a 500 envelope', async () => {
    const response = await t.http.get('/api/v1/probe/boom').expect(500);
    expect(Object.keys(response.body).sort()).toEqual(ERROR_KEYS);
    expect(response.body).toMatchObject({ status_code: 500, error: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(JSON.stringify(response.body)).not.toMatch(/hunter2|srv|stack/);
  });

  it('sets the security headers', async () => {
    const response = await t.http.get('/api/health').expect(200);
    expect(response.headers['strict-transport-security']).toContain('max-age=');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  describe('bad input always gets a 4xx error envelope', () => {
    const cases: Array<{ name: string; send: () => Promise<{ status: number; body: Record<string, unknown>; type: string }>; status: number; error?: string }> = [
      {
        name: 'invalid JSON',
        send: () => t.http.post('/api/v1/probe').set('Content-Type', 'application/json').send('{"email": '),
        status: 400,
        error: 'MALFORMED_JSON',
      },
      {
        name: 'a JSON array where an object is expected',
        send: () => t.http.post('/api/v1/probe').send([{ email: 'a@example.com', age: 1 }]),
        status: 400,
        error: 'VALIDATION_FAILED',
      },
      {
        name: 'a JSON string where an object is expected',
        send: () => t.http.post('/api/v1/probe').set('Content-Type', 'application/json').send('"text"'),
        status: 400,
      },
      {
        name: 'a wrong content type',
        send: () => t.http.post('/api/v1/probe').set('Content-Type', 'text/plain').send('email=a@example.com'),
        status: 415,
        error: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'a form-encoded body',
        send: () => t.http.post('/api/v1/probe').type('form').send({ email: 'a@example.com', age: 1 }),
        status: 415,
      },
      {
        name: 'a body one byte over the configured limit',
        send: () => {
          const envelope = JSON.stringify({ email: 'a@example.com', age: 1, padding: '' });
          const padding = 'x'.repeat(t.opsdeck.config.server.body_limit_bytes - envelope.length + 1);
          return t.http.post('/api/v1/probe').send({ email: 'a@example.com', age: 1, padding });
        },
        status: 413,
        error: 'PAYLOAD_TOO_LARGE',
      },
      {
        name: 'unknown fields',
        send: () => t.http.post('/api/v1/probe').send({ email: 'a@example.com', age: 1, is_admin: true }),
        status: 400,
        error: 'VALIDATION_FAILED',
      },
      { name: 'per_page=100000', send: () => t.http.get('/api/v1/probe/items?per_page=100000'), status: 400 },
      { name: 'page=-1', send: () => t.http.get('/api/v1/probe/items?page=-1'), status: 400 },
      { name: 'page=abc', send: () => t.http.get('/api/v1/probe/items?page=abc'), status: 400 },
      { name: 'page=0', send: () => t.http.get('/api/v1/probe/items?page=0'), status: 400 },
      { name: 'page=1.5', send: () => t.http.get('/api/v1/probe/items?page=1.5'), status: 400 },
      { name: 'an unknown query parameter', send: () => t.http.get('/api/v1/probe/items?pagee=2'), status: 400 },
      { name: 'an unknown route', send: () => t.http.get('/api/v1/does-not-exist'), status: 404, error: 'NOT_FOUND' },
      { name: 'a route outside the prefix', send: () => t.http.get('/index.html'), status: 404 },
      { name: 'a wrong method', send: () => t.http.delete('/api/v1/health'), status: 404 },
      { name: 'a wrong method with a body', send: () => t.http.put('/api/health').send({}), status: 404 },
    ];

    it.each(cases)('$name → $status', async ({ send, status, error }) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.type).toBe('application/json');
      expect(Object.keys(response.body).sort()).toEqual(ERROR_KEYS);
      expect(response.body.status_code).toBe(status);
      if (error) expect(response.body.error).toBe(error);
      expect(response.body.request_id).toEqual(expect.any(String));
    });

    it('names each invalid field, nested ones by dotted path', async () => {
      const response = await t.http
        .post('/api/v1/probe')
        .send({ email: 'not-an-email', age: 'old', address: { city: '' } })
        .expect(400);
      const fields = (response.body.details as Array<{ field: string }>).map((detail) => detail.field).sort();
      expect(fields).toEqual(['address.city', 'age', 'email']);
    });

    it('replaces an oversized or unprintable X-Request-Id instead of echoing it', async () => {
      const oversized = 'r'.repeat(5000);
      const response = await t.http.get('/api/v1/health').set('X-Request-Id', oversized);
      expect(response.status).toBe(200);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(response.body.meta.request_id).toBe(response.headers['x-request-id']);
      const injected = await t.http.get('/api/v1/health').set('X-Request-Id', 'a b"<script>');
      expect(injected.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
