import { describe, expect, it } from '@jest/globals';
import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
  type ArgumentsHost,
} from '@nestjs/common';
import type { FastifyReply as Response, FastifyRequest as Request } from 'fastify';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { requestContext } from '../http/request-context.js';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { AppError } from './app-error.js';
import type { ErrorEnvelope } from './error-envelope.js';

/** The part of a FastifyReply the filter uses. */
class FakeResponse {
  sent = false;
  statusCode: number | undefined;
  body: ErrorEnvelope | undefined;
  readonly headers: Record<string, string> = {};
  readonly calls: string[] = [];
  readonly raw = {
    headersSent: false,
    writableEnded: false,
    end: () => {
      this.calls.push('end');
      this.raw.writableEnded = true;
    },
  };

  status(code: number): this {
    this.calls.push('status');
    this.statusCode = code;
    return this;
  }

  header(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  send(body: ErrorEnvelope): this {
    this.calls.push('send');
    this.body = body;
    return this;
  }
}

function hostFor(request: Partial<Request>, response: FakeResponse): ArgumentsHost {
  const http = {
    getRequest: () => request as Request,
    getResponse: () => response as unknown as Response,
    getNext: () => () => undefined,
  };
  return { getType: () => 'http', switchToHttp: () => http } as unknown as ArgumentsHost;
}

function recordingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

function handle(
  exception: unknown,
  url = '/api/v1/sites/42?expand=modules',
): { response: FakeResponse; body: ErrorEnvelope; logged: Record<string, unknown>[] } {
  const { logger, lines } = recordingLogger();
  const response = new FakeResponse();
  new AllExceptionsFilter(logger).catch(exception, hostFor({ url }, response));
  if (response.body === undefined) throw new Error('the filter wrote no body');
  return { response, body: response.body, logged: lines };
}

describe('AllExceptionsFilter', () => {
  it('writes the full envelope for an AppError, keeping its code and details', () => {
    const details = [{ field: 'url', messages: ['url is already used by site 7'] }];

    const { response, body } = handle(new AppError(HttpStatus.CONFLICT, 'SITE.URL_TAKEN', 'URL already used', details));

    expect(response.statusCode).toBe(409);
    expect(response.calls).toEqual(['status', 'send']);
    expect(body).toEqual({
      status_code: 409,
      error: 'SITE.URL_TAKEN',
      message: 'URL already used',
      details,
      timestamp: expect.any(String),
      request_id: '',
      path: '/api/v1/sites/42',
    });
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
  });

  it('passes object details of an AppError through', () => {
    const { body } = handle(new AppError(HttpStatus.TOO_MANY_REQUESTS, 'RATE_LIMITED', 'slow down', { retry_in: 30 }));

    expect(body).toMatchObject({ status_code: 429, error: 'RATE_LIMITED', details: { retry_in: 30 } });
  });

  it('puts the current request id into the envelope', () => {
    const response = new FakeResponse();
    const filter = new AllExceptionsFilter(pino({ level: 'silent' }));

    requestContext.run({ requestId: 'req-123' }, () =>
      filter.catch(new NotFoundException(), hostFor({ url: '/api/v1/x' }, response)),
    );

    expect(response.body?.request_id).toBe('req-123');
  });

  it('maps NotFoundException to 404 NOT_FOUND', () => {
    const { response, body } = handle(new NotFoundException('Site 42 not found'));

    expect(response.statusCode).toBe(404);
    expect(body).toMatchObject({ status_code: 404, error: 'NOT_FOUND', message: 'Site 42 not found', details: null });
  });

  it('uses the default message of a bare NotFoundException', () => {
    const { body } = handle(new NotFoundException());

    expect(body).toMatchObject({ error: 'NOT_FOUND', message: 'Not Found' });
  });

  it('maps ForbiddenException to FORBIDDEN', () => {
    const { body } = handle(new ForbiddenException());

    expect(body).toMatchObject({ status_code: 403, error: 'FORBIDDEN' });
  });

  it('turns a BadRequestException with an array message into validation details', () => {
    const { response, body } = handle(new BadRequestException(['name must be a string', 'port must be an integer']));

    expect(response.statusCode).toBe(400);
    expect(body).toMatchObject({
      status_code: 400,
      error: 'BAD_REQUEST',
      message: 'Request validation failed',
      details: [{ field: '', messages: ['name must be a string', 'port must be an integer'] }],
    });
  });

  it('keeps the string message of a BadRequestException', () => {
    const { body } = handle(new BadRequestException('Unknown sort field'));

    expect(body).toMatchObject({ error: 'BAD_REQUEST', message: 'Unknown sort field', details: null });
  });

  it('falls back to a generic code for statuses without a specific one', () => {
    const { body } = handle(new HttpException('I am a teapot', 418));

    expect(body).toMatchObject({ status_code: 418, error: 'BAD_REQUEST', message: 'I am a teapot' });
  });

  it('hides the message of a 500 HttpException', () => {
    const { body } = handle(new InternalServerErrorException('pool exhausted at db-primary:5432'));

    expect(body).toMatchObject({ status_code: 500, error: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(JSON.stringify(body)).not.toContain('db-primary');
  });

  it('keeps the message of a 503 HttpException', () => {
    const { body } = handle(new ServiceUnavailableException('Maintenance until 14:00'));

    expect(body).toMatchObject({ status_code: 503, error: 'SERVICE_UNAVAILABLE', message: 'Maintenance until 14:00' });
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 413, 'PAYLOAD_TOO_LARGE', 'Request body is too large'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 400, 'MALFORMED_JSON', 'Request body is not valid JSON'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 400, 'MALFORMED_JSON', 'Request body is empty but declared as JSON'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type'],
    ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 400, 'BAD_REQUEST', 'Request size did not match Content-Length'],
  ])('maps a Fastify body error %s to %p', (code, rawStatus, status, envelopeCode, message) => {
    const fastifyError = Object.assign(new Error('fastify internals'), { code, statusCode: rawStatus });

    const { response, body } = handle(fastifyError);

    expect(response.statusCode).toBe(status);
    expect(body).toMatchObject({ status_code: status, error: envelopeCode, message, details: null });
    expect(JSON.stringify(body)).not.toContain('internals');
  });

  it.each(['constructor', 'toString', 'hasOwnProperty'])(
    'treats an error whose code is %p as unexpected, not as a Fastify body error',
    (code) => {
      const { response, body } = handle(Object.assign(new Error('odd library error'), { code }));

      expect(response.statusCode).toBe(500);
      expect(body).toMatchObject({ status_code: 500, error: 'INTERNAL_ERROR', message: 'Internal server error' });
    },
  );

  it('maps a plain object carrying a Fastify code', () => {
    const { response, body } = handle({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });

    expect(response.statusCode).toBe(413);
    expect(body).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' });
  });

  it("maps the JSON parser's SyntaxError (marked 400) to MALFORMED_JSON without echoing the body", () => {
    const syntaxError = Object.assign(new SyntaxError('Unexpected token } in JSON: {"password":"hunter2"'), { statusCode: 400 });

    const { body } = handle(syntaxError);

    expect(body).toMatchObject({ status_code: 400, error: 'MALFORMED_JSON' });
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });

  it('treats a SyntaxError not marked 400 as unexpected', () => {
    expect(handle(new SyntaxError('bug in our own JSON.parse')).body).toMatchObject({ status_code: 500, error: 'INTERNAL_ERROR' });
  });

  it('prefers the low-level cause of an HttpException', () => {
    const wrapped = new BadRequestException('Bad Request', { cause: { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 } });

    const { body } = handle(wrapped);

    expect(body).toMatchObject({ status_code: 400, error: 'MALFORMED_JSON' });
  });

  it('maps a database connection error to 503 DATABASE_UNAVAILABLE and logs it', () => {
    const connectionError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

    const { response, body, logged } = handle(connectionError);

    expect(response.statusCode).toBe(503);
    expect(body).toMatchObject({
      status_code: 503,
      error: 'DATABASE_UNAVAILABLE',
      message: 'The database is unavailable; try again shortly',
      details: null,
    });
    expect(JSON.stringify(body)).not.toContain('5432');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ status: 503, msg: 'request failed' });
  });

  it('maps a wrapped database error (TypeORM driverError) to 503', () => {
    const queryFailed = Object.assign(new Error('Query failed'), { driverError: { code: '57P01' } });

    expect(handle(queryFailed).body).toMatchObject({ status_code: 503, error: 'DATABASE_UNAVAILABLE' });
  });

  it('hides an unexpected error behind 500 INTERNAL_ERROR and keeps its details in the log only', () => {
    const { response, body, logged } = handle(new Error('secret details'));

    expect(response.statusCode).toBe(500);
    expect(body).toMatchObject({
      status_code: 500,
      error: 'INTERNAL_ERROR',
      message: 'Internal server error',
      details: null,
    });
    expect(JSON.stringify(body)).not.toContain('secret details');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, status: 500, msg: 'request failed' });
    expect(JSON.stringify(logged[0])).toContain('secret details');
  });

  it.each([
    ['a string', 'secret string'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
  ])('answers 500 when something that is not an Error is thrown (%s)', (_label, thrown) => {
    const { body } = handle(thrown);

    expect(body).toMatchObject({ status_code: 500, error: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(JSON.stringify(body)).not.toContain('secret string');
  });

  it('does not log client errors', () => {
    const { logged } = handle(new NotFoundException());

    expect(logged).toEqual([]);
  });

  it('gives an empty path when the url is empty and strips the query string', () => {
    expect(handle(new NotFoundException(), '').body.path).toBe('');
    expect(handle(new NotFoundException(), '/api/v1/sites?token=abc').body.path).toBe('/api/v1/sites');
  });

  it('answers as JSON even when the route had set another content type', () => {
    expect(handle(new NotFoundException()).response.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('only ends the response when headers were already sent', () => {
    const response = new FakeResponse();
    response.raw.headersSent = true;
    const { logger } = recordingLogger();

    new AllExceptionsFilter(logger).catch(new Error('late failure'), hostFor({ url: '/api/v1/x' }, response));

    expect(response.calls).toEqual(['end']);
    expect(response.statusCode).toBeUndefined();
    expect(response.body).toBeUndefined();
  });
});

describe('AllExceptionsFilter outside HTTP', () => {
  it('logs an error from a Socket.IO handler and writes nothing', () => {
    const { logger, lines } = recordingLogger();
    const host = { getType: () => 'ws', switchToHttp: () => { throw new Error('not HTTP'); } } as unknown as ArgumentsHost;
    new AllExceptionsFilter(logger).catch(new Error('boom'), host);
    expect(lines).toEqual([expect.objectContaining({ transport: 'ws', msg: 'unhandled error in a non-HTTP handler' })]);
  });
});
