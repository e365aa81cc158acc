import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest as Request } from 'fastify';
import { map, type Observable } from 'rxjs';
import { Page } from '../pagination/pagination.js';
import { requestContext } from './request-context.js';
import { RAW_RESPONSE } from './raw-response.decorator.js';

export interface SuccessEnvelope<T> {
  readonly data: T;
  readonly meta: Record<string, unknown>;
  readonly links: Record<string, string | null>;
}

/** Wraps every JSON success body in `{data, meta, links}`; a `Page` becomes a list with paging meta. */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const raw = this.reflector.getAllAndOverride<boolean>(RAW_RESPONSE, [context.getHandler(), context.getClass()]);
    if (raw || context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    return next.handle().pipe(map((body: unknown) => wrapInEnvelope(body, request)));
  }
}

/** The success envelope of DESIGN.md §3; routes that write their own responses (@RawResponse) use it too. */
export function wrapInEnvelope(body: unknown, request: Request): SuccessEnvelope<unknown> {
  const requestId = requestContext.current()?.requestId;
  if (body instanceof Page) {
    return {
      data: body.items,
      meta: { ...body.meta, request_id: requestId },
      links: { ...body.links(request.originalUrl) },
    };
  }
  return {
    data: body ?? null,
    meta: { request_id: requestId },
    links: { self: request.originalUrl },
  };
}
