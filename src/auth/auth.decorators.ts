import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiResponse, ApiSecurity, getSchemaPath } from '@nestjs/swagger';
import type { FastifyRequest as Request } from 'fastify';
import type { AppConfig } from '../config/config.schema.js';
import { ErrorEnvelopeDto } from '../common/openapi/error-envelope.dto.js';
import { API_KEY_AUTH, BEARER_AUTH } from '../common/openapi/endpoint.decorator.js';
import type { Permission, Principal } from './principal.js';

export const AUTH_REQUIREMENT = 'opsdeck:auth-requirement';

export interface AuditedAction {
  /** `organization.create`, `user.delete`, ... */
  readonly action: string;
  readonly resource: string;
}

export type AuthRequirement =
  | { readonly isPublic: true }
  | {
      readonly isPublic: false;
      readonly permission: Permission;
      readonly audit?: AuditedAction;
      /** Lets configuration open a route (metrics when METRICS_PUBLIC=true). */
      readonly publicWhen?: (config: AppConfig) => boolean;
    };

export interface AuthenticatedOptions {
  readonly permission: Permission;
  /** Audited routes leave a row for every attempt, refused and failed ones included. */
  readonly audit?: AuditedAction;
  readonly publicWhen?: (config: AppConfig) => boolean;
}

const errorResponse = (status: number, description: string): MethodDecorator =>
  ApiResponse({ status, description, schema: { $ref: getSchemaPath(ErrorEnvelopeDto) } });

/** The one decorator that says who may call a route; it also documents the route's security. */
export function Authenticated(options: AuthenticatedOptions): MethodDecorator {
  const requirement: AuthRequirement = { isPublic: false, ...options };
  return applyDecorators(
    SetMetadata(AUTH_REQUIREMENT, requirement),
    ApiSecurity(BEARER_AUTH),
    ApiSecurity(API_KEY_AUTH),
    errorResponse(401, 'Missing, invalid, expired or revoked credentials'),
    errorResponse(403, `Authenticated but lacking the ${options.permission} permission`),
    errorResponse(429, 'Rate limit exceeded; see Retry-After'),
  );
}

/** No credentials needed (health, login). */
export const Public = (): MethodDecorator & ClassDecorator =>
  SetMetadata(AUTH_REQUIREMENT, { isPublic: true } satisfies AuthRequirement);

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

/** The verified caller of an @Authenticated route. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('@Auth() used on a route without @Authenticated()');
  return principal;
});
