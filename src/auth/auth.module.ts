import { createSecretKey } from 'node:crypto';
import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { UsersModule } from '../users/users.module.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { AuthenticationService } from './authentication.service.js';
import { AuthorizationGuard } from './authorization.guard.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { RevokedTokenEntity } from './entities/revoked-token.entity.js';
import { FirstAdminService } from './first-admin.service.js';
import { PrincipalCache } from './principal-cache.js';
import { resolveJwtSecret } from './jwt-secret.js';
import { RevokedTokensRepository } from './revoked-tokens.repository.js';
import { TokenService } from './token.service.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forFeature([ApiKeyEntity, RevokedTokenEntity]),
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // A KeyObject, not a string: jsonwebtoken otherwise re-derives (and first tries to parse as a public key)
        // the secret on every verify, which costs ~40x the HMAC itself.
        secret: createSecretKey(Buffer.from(resolveJwtSecret(config), 'utf8')),
        signOptions: { algorithm: 'HS256', expiresIn: config.auth.jwt_expires_in_seconds },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
    UsersModule,
    OrganizationsModule,
  ],
  controllers: [AuthController, ApiKeysController],
  providers: [
    ApiKeysRepository,
    ApiKeysService,
    AuthService,
    AuthenticationService,
    FirstAdminService,
    PrincipalCache,
    RevokedTokensRepository,
    TokenService,
    { provide: APP_GUARD, useClass: AuthorizationGuard },
  ],
  exports: [AuthenticationService, FirstAdminService, PrincipalCache],
})
export class AuthModule {}
