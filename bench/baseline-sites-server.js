// Bare node:http + pg reference server for bench/sites.bench.js.
//
// Answers GET /api/v1/sites?page=P&per_page=N with the query OpsDeck's SitesRepository.search runs for an admin
// (live sites by lower(name), id, one round trip with the total as a scalar subquery) and the same JSON envelope
// ({data, meta: {page, per_page, total, total_pages, request_id}, links: {self, first, prev, next, last}}).
// No framework, no middleware, no authentication: what the database round trip plus HTTP cost alone.
//
// Environment: PORT (required), HOST (default 127.0.0.1), and either DATABASE_URL (pg.Pool of POOL_SIZE,
// default 10, like OpsDeck's database.pool_size) or PGLITE_DIR: then, like OpsDeck's embedded mode, PGlite is
// opened in this process and served on a loopback socket with one connection, reached through pg with a pool
// of 1. Also answers GET /api/health (200) so the bench can wait for it like for OpsDeck.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';

const port = Number(process.env.PORT);
const host = process.env.HOST || '127.0.0.1';
if (!Number.isInteger(port) || port < 1 || port > 65535 || (!process.env.DATABASE_URL && !process.env.PGLITE_DIR)) {
  process.stderr.write('baseline-sites-server: PORT and DATABASE_URL or PGLITE_DIR are required\n');
  process.exit(2);
}

const SQL = `SELECT page.*, (SELECT count(*) FROM sites WHERE deleted_at IS NULL) AS total
  FROM (SELECT id, organization_id, name, url, description, drupal_version, php_version, last_report_at,
               created_by, created_at, updated_at, deleted_at FROM sites WHERE deleted_at IS NULL
         ORDER BY lower(name), id OFFSET $1 LIMIT $2) AS page
  RIGHT JOIN (SELECT 1) AS always ON true`;

let embedded = null;
let url = process.env.DATABASE_URL;
let poolSize = Number(process.env.POOL_SIZE || 10);
if (!url) {
  // The same settings as src/database/embedded-postgres.ts.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(process.env.PGLITE_DIR, {
    postgresqlconf: ['shared_buffers = 8MB', 'work_mem = 4MB', 'maintenance_work_mem = 16MB', 'temp_buffers = 4MB', 'wal_buffers = 1MB'],
  });
  const socket = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await socket.start();
  embedded = { db, socket };
  url = `postgresql://postgres@${socket.getServerConn()}/postgres`;
  poolSize = 1;
}
const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000, application_name: 'baseline-sites' });

const json = (response, status, body) => {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
};

function link(pathname, params, page, perPage) {
  const next = new URLSearchParams(params);
  next.set('page', String(page));
  next.set('per_page', String(perPage));
  return `${pathname}?${next.toString()}`;
}

async function listSites(request, response, target) {
  const page = Math.max(1, Number(target.searchParams.get('page') ?? 1) || 1);
  const perPage = Math.min(100, Math.max(1, Number(target.searchParams.get('per_page') ?? 20) || 20));
  const { rows } = await pool.query(SQL, [(page - 1) * perPage, perPage]);
  const total = Number(rows[0]?.total ?? 0);
  const totalPages = Math.ceil(total / perPage);
  const last = Math.max(totalPages, 1);
  const data = rows.filter((row) => row.id !== null).map(({ total: _total, ...row }) => ({
    ...row,
    last_report_at: row.last_report_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    deleted_at: row.deleted_at?.toISOString() ?? null,
  }));
  const requestId = randomUUID();
  json(response, 200, {
    data,
    meta: { page, per_page: perPage, total, total_pages: totalPages, request_id: requestId },
    links: {
      self: link(target.pathname, target.searchParams, page, perPage),
      first: link(target.pathname, target.searchParams, 1, perPage),
      prev: page > 1 ? link(target.pathname, target.searchParams, Math.min(page - 1, last), perPage) : null,
      next: page < totalPages ? link(target.pathname, target.searchParams, page + 1, perPage) : null,
      last: link(target.pathname, target.searchParams, last, perPage),
    },
  });
}

const server = createServer((request, response) => {
  const target = new URL(request.url, 'http://localhost');
  if (request.method === 'GET' && target.pathname === '/api/health') {
    pool.query('SELECT 1').then(
      () => json(response, 200, { status: 'ok' }),
      (error) => json(response, 503, { status: 'down', error: error.message }),
    );
    return;
  }
  if (request.method === 'GET' && target.pathname === '/api/v1/sites') {
    listSites(request, response, target).catch((error) => json(response, 500, { error: error.message }));
    return;
  }
  json(response, 404, { error: 'NOT_FOUND' });
});

server.listen(port, host, () => {
  process.stdout.write(`baseline-sites-server listening on http://${host}:${port}${embedded ? ' (embedded PGlite)' : ''}\n`);
});

function stop() {
  setTimeout(() => process.exit(0), 3000).unref(); // bounded: never hang on shutdown
  server.close(() => {
    pool
      .end()
      .then(() => (embedded ? embedded.socket.stop().then(() => embedded.db.close()) : undefined))
      .finally(() => process.exit(0));
  });
  server.closeAllConnections();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
