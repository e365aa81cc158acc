import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest as Request } from 'fastify';
import { Errors } from '../common/errors/errors.js';
import { requestContext } from '../common/http/request-context.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { AUTH_REQUIREMENT, type AuthRequirement, type AuthenticatedRequest } from './auth.decorators.js';
import { AuthenticationService, INVALID_CREDENTIALS } from './authentication.service.js';
import { hasPermission } from './principal.js';

/**
 * The global guard: every route is authenticated unless marked @Public(); the caller must hold the route's
 * permission. Audited routes are noted first, so refusals are audited too.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticationService: AuthenticationService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (requirement?.isPublic || requirement?.publicWhen?.(this.config)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const store = requestContext.current();
    if (store && requirement?.audit) {
      store.audit = {
        action: requirement.audit.action,
        resourceType: requirement.audit.resource,
        resourceId: firstParam(request),
      };
    }
    const principal = await this.authenticationService.authenticate(request);
    if (principal === null) throw Errors.unauthorized('Authentication required: a bearer token or an X-API-Key');
    if (principal === INVALID_CREDENTIALS) throw Errors.unauthorized('Invalid, expired or revoked credentials');
    request.principal = principal;
    if (store) store.principal = principal;
    // A route that forgot to declare its requirement is closed to everyone but admins.
    const allowed = requirement ? hasPermission(principal, requirement.permission) : principal.role === 'admin';
    if (!allowed) throw Errors.forbidden('FORBIDDEN', 'You are not allowed to do this');
    return true;
  }
}

function firstParam(request: Request): string | null {
  const value: unknown = Object.values((request.params ?? {}) as Record<string, unknown>)[0];
  return typeof value === 'string' ? value.slice(0, 200) : null;
}
