import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply as Response, FastifyRequest as Request } from 'fastify';
import { requestContext } from '../http/request-context.js';
import { SKIP_RATE_LIMIT } from './rate-limit.decorators.js';
import { RateLimitExceededError, RateLimitService, type RateLimitState } from './rate-limit.service.js';

/** The global per-client limit (RATE_LIMIT_PER_MINUTE), with the usual headers and Retry-After on 429. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly rateLimits: RateLimitService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const skip = this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT, [context.getHandler(), context.getClass()]);
    if (skip) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    try {
      setRateLimitHeaders(response, await this.rateLimits.consume('default', clientKey(request)));
      return true;
    } catch (error) {
      if (error instanceof RateLimitExceededError) setRateLimitHeaders(response, error.state);
      throw error;
    }
  }
}

export function clientKey(request: Request): string {
  // The first middleware resolved the address already (request.ip is recomputed on every read).
  return requestContext.current()?.ip ?? request.ip ?? request.socket.remoteAddress ?? 'unknown';
}

function setRateLimitHeaders(response: Response, state: RateLimitState): void {
  response.header('X-RateLimit-Limit', String(state.limit));
  response.header('X-RateLimit-Remaining', String(state.remaining));
  response.header('X-RateLimit-Reset', String(state.resetSeconds));
}
