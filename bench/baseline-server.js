// Bare node:http reference server for bench/health.bench.js.
//
// Answers GET /api/health with a fixed copy of a real OpsDeck /api/health body and the same Content-Type,
// nothing else: no framework, no middleware, no database. It is what the loopback + HTTP parsing + client
// cost alone looks like on this machine, so OpsDeck's figures can be read against it.
//
// Environment: PORT (required), HOST (default 127.0.0.1), BENCH_BODY (the JSON body, required),
// BENCH_CONTENT_TYPE (default application/json; charset=utf-8).
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const host = process.env.HOST || '127.0.0.1';
const contentType = process.env.BENCH_CONTENT_TYPE || 'application/json; charset=utf-8';
const bodyText = process.env.BENCH_BODY;

if (!Number.isInteger(port) || port < 1 || port > 65535 || !bodyText) {
  process.stderr.write('baseline-server: PORT and BENCH_BODY are required\n');
  process.exit(2);
}

const body = Buffer.from(bodyText, 'utf8');
const notFound = Buffer.from('{"error":{"code":"NOT_FOUND"}}', 'utf8');

const server = createServer((request, response) => {
  if (request.method === 'GET' && (request.url === '/api/health' || request.url.startsWith('/api/health?'))) {
    response.writeHead(200, { 'Content-Type': contentType, 'Content-Length': body.length });
    response.end(body);
    return;
  }
  response.writeHead(404, { 'Content-Type': contentType, 'Content-Length': notFound.length });
  response.end(notFound);
});

server.listen(port, host, () => {
  process.stdout.write(`baseline-server listening on http://${host}:${port}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  // Bounded: never hang on shutdown.
  setTimeout(() => process.exit(0), 2000).unref();
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
