import { Injectable } from '@nestjs/common';
import type { FastifyRequest as Request } from 'fastify';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { UsersRepository } from '../users/users.repository.js';
import { ApiKeysRepository, LAST_USED_RESOLUTION_MS } from './api-keys.repository.js';
import { PrincipalCache } from './principal-cache.js';
import type { Principal } from './principal.js';
import { sameDigest, sha256Hex } from './secret-tokens.js';
import { TokenService } from './token.service.js';

/** Marks credentials that were presented but are not valid (as opposed to none presented). */
export const INVALID_CREDENTIALS = Symbol('INVALID_CREDENTIALS');

// RFC 7235: the auth scheme is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i;

/** Turns the request's credentials into a Principal: a user's JWT, an API key, or the bootstrap token. */
@Injectable()
export class AuthenticationService {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly tokenService: TokenService,
    private readonly usersRepository: UsersRepository,
    private readonly apiKeysRepository: ApiKeysRepository,
    private readonly principalCache: PrincipalCache,
  ) {}

  async authenticate(request: Request): Promise<Principal | null | typeof INVALID_CREDENTIALS> {
    const authorization = request.headers.authorization;
    const apiKey = request.headers['x-api-key'];
    if (authorization !== undefined) return this.fromBearer(authorization);
    if (typeof apiKey === 'string') return this.fromApiKey(apiKey);
    if (apiKey !== undefined) return INVALID_CREDENTIALS;
    return null;
  }

  /** The same, for transports without HTTP headers (the Socket.IO handshake's `auth: {token}` or `{api_key}`). */
  async authenticateCredentials(credentials: { readonly token?: string; readonly apiKey?: string }): Promise<Principal | null | typeof INVALID_CREDENTIALS> {
    if (credentials.token !== undefined) return this.fromToken(credentials.token);
    if (credentials.apiKey !== undefined) return this.fromApiKey(credentials.apiKey);
    return null;
  }

  private fromBearer(header: string): Promise<Principal | typeof INVALID_CREDENTIALS> {
    const token = BEARER.exec(header)?.[1];
    return token ? this.fromToken(token) : Promise.resolve(INVALID_CREDENTIALS);
  }

  private async fromToken(token: string): Promise<Principal | typeof INVALID_CREDENTIALS> {
    if (token.length === 0 || token.length > 4096) return INVALID_CREDENTIALS;
    // Machine clients often send their key as a bearer token; a JWT always has three dot-separated parts.
    if (token.split('.').length !== 3) return this.fromApiKey(token);
    const claims = await this.tokenService.verify(token);
    if (!claims) return INVALID_CREDENTIALS;
    const cacheKey = `jwt:${claims.jti}`;
    const expiresAt = claims.exp * 1000;
    const cached = this.principalCache.get(cacheKey)?.principal;
    // Only we sign tokens, so one jti has one subject and expiry; anything else is looked up afresh.
    if (cached && cached.id === claims.sub && cached.token?.expiresAt.getTime() === expiresAt) return cached;
    const ticket = this.principalCache.ticket();
    const user = await this.usersRepository.findTokenUser(claims.sub, claims.jti);
    if (!user || user.tokenRevoked) return INVALID_CREDENTIALS;
    const principal: Principal = {
      kind: 'user',
      id: user.id,
      label: user.email,
      role: user.role,
      organizationId: user.organizationId,
      siteId: null,
      token: { jti: claims.jti, expiresAt: new Date(expiresAt) },
    };
    this.principalCache.store(cacheKey, principal, ticket, { notAfter: principal.token?.expiresAt });
    return principal;
  }

  private async fromApiKey(presented: string): Promise<Principal | typeof INVALID_CREDENTIALS> {
    if (presented.length < 16 || presented.length > 256) return INVALID_CREDENTIALS;
    const digest = sha256Hex(presented);
    const bootstrapHash = this.config.auth.api_token_hash;
    if (bootstrapHash && sameDigest(digest, bootstrapHash)) {
      return { kind: 'bootstrap', id: null, label: 'bootstrap-token', role: 'admin', organizationId: null, siteId: null };
    }
    const cacheKey = `key:${digest}`;
    const cached = this.principalCache.get(cacheKey);
    if (cached) {
      const { principal } = cached;
      if (principal.id !== null && (cached.lastUsedAt === null || Date.now() - cached.lastUsedAt >= LAST_USED_RESOLUTION_MS)) {
        cached.lastUsedAt = Date.now();
        await this.apiKeysRepository.touchLastUsed(principal.id);
      }
      return principal;
    }
    const ticket = this.principalCache.ticket();
    const key = await this.apiKeysRepository.findUsableByHash(digest);
    if (!key) return INVALID_CREDENTIALS;
    let lastUsedAt = key.lastUsedAt?.getTime() ?? null;
    if (lastUsedAt === null || Date.now() - lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      await this.apiKeysRepository.touchLastUsed(key.id);
      lastUsedAt = Date.now();
    }
    const principal: Principal = {
      kind: 'api_key',
      id: key.id,
      label: key.prefix,
      role: key.role,
      organizationId: key.organizationId,
      siteId: key.siteId,
    };
    this.principalCache.store(cacheKey, principal, ticket, { notAfter: key.expiresAt, lastUsedAt });
    return principal;
  }
}
