import { HttpStatus, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors/app-error.js';
import { Errors } from '../common/errors/errors.js';
import { requestContext } from '../common/http/request-context.js';
import { RateLimitService } from '../common/rate-limit/rate-limit.service.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { UsersRepository } from '../users/users.repository.js';
import { AccessTokenDto, LoginDto, MeDto } from './dto/auth.dto.js';
import { PasswordHasher } from './password-hasher.js';
import { PrincipalCache } from './principal-cache.js';
import { hasPermission, Permission, type Principal } from './principal.js';
import { RevokedTokensRepository } from './revoked-tokens.repository.js';
import { TokenService } from './token.service.js';

const LOGIN_BY_CLIENT = 'login_client';
const LOGIN_BY_ACCOUNT = 'login_account';

@Injectable()
export class AuthService implements OnModuleInit {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly usersRepository: UsersRepository,
    private readonly revokedTokensRepository: RevokedTokensRepository,
    private readonly passwordHasher: PasswordHasher,
    private readonly tokenService: TokenService,
    private readonly rateLimits: RateLimitService,
    private readonly auditService: AuditService,
    private readonly principalCache: PrincipalCache,
  ) {}

  onModuleInit(): void {
    // LOGIN_RATE_LIMIT_PER_MINUTE attempts may come at once (the burst); then the window must pass.
    const points = this.config.rate_limit.login_per_minute;
    this.rateLimits.register({ name: LOGIN_BY_CLIENT, points, durationSeconds: 60 });
    this.rateLimits.register({ name: LOGIN_BY_ACCOUNT, points, durationSeconds: 60 });
  }

  /** The same 401, after the same password-hashing work, whether the email or the password is wrong. */
  async login(dto: LoginDto): Promise<AccessTokenDto> {
    await this.rateLimits.consume(LOGIN_BY_CLIENT, requestContext.current()?.ip ?? 'unknown');
    await this.rateLimits.consume(LOGIN_BY_ACCOUNT, dto.email);
    const user = await this.usersRepository.findLoginCandidate(dto.email);
    const valid = await this.passwordHasher.verify(user?.passwordHash ?? null, dto.password);
    if (!user || !valid) {
      await this.auditService.record({
        action: 'auth.login_failed',
        resourceType: 'auth',
        resourceId: user?.id ?? null,
        outcome: 'failure',
        statusCode: HttpStatus.UNAUTHORIZED,
        actor: { type: 'anonymous', id: null, label: dto.email },
      });
      throw new AppError(HttpStatus.UNAUTHORIZED, 'AUTH.INVALID_CREDENTIALS', 'Invalid email or password');
    }
    const issued = await this.tokenService.issue(user.id);
    await this.usersRepository.touchLastLogin(user.id);
    await this.auditService.record({
      action: 'auth.login',
      resourceType: 'auth',
      resourceId: user.id,
      actor: { type: 'user', id: user.id, label: user.email, organizationId: user.organizationId },
    });
    return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn };
  }

  /** Revokes exactly the presented token; its id is kept until it would have expired. */
  async logout(principal: Principal): Promise<void> {
    const { token, id } = principal;
    if (principal.kind !== 'user' || !token || !id) {
      throw Errors.rule('AUTH.NOT_A_SESSION', 'Only a bearer token can be logged out; revoke API keys instead');
    }
    try {
      await this.dataSource.transaction(async (manager) => {
        await this.revokedTokensRepository.revoke(token.jti, id, token.expiresAt, manager);
        await this.auditService.record({ action: 'auth.logout', resourceType: 'auth', resourceId: id }, manager);
      });
    } finally {
      await this.principalCache.invalidate({ scope: 'token', id: token.jti });
    }
    await this.revokedTokensRepository.purgeExpired();
  }

  me(principal: Principal): MeDto {
    const permissions = Object.values(Permission).filter((permission) => hasPermission(principal, permission));
    return {
      kind: principal.kind,
      id: principal.id,
      label: principal.label,
      role: principal.role,
      organization_id: principal.organizationId,
      site_id: principal.siteId,
      permissions: permissions.sort(),
    };
  }
}
