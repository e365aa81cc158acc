import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';

export interface AccessTokenClaims {
  readonly sub: string;
  readonly jti: string;
  readonly exp: number;
}

export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresIn: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** HS256 access tokens: subject, unique id (for logout), expiry. Nothing else is trusted from a token. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwtService: JwtService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async issue(userId: string): Promise<IssuedToken> {
    const expiresIn = this.config.auth.jwt_expires_in_seconds;
    const accessToken = await this.jwtService.signAsync({ sub: userId, jti: randomUUID(), typ: 'access' });
    return { accessToken, expiresIn };
  }

  /** The claims of a genuine, unexpired token, or null for anything else (forged, expired, alg=none, ...). */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    try {
      const claims = await this.jwtService.verifyAsync<Record<string, unknown>>(token, { algorithms: ['HS256'] });
      const { sub, jti, exp, typ } = claims;
      if (typeof sub !== 'string' || !UUID.test(sub) || typeof jti !== 'string' || !UUID.test(jti)) return null;
      if (typeof exp !== 'number' || typ !== 'access') return null;
      return { sub, jti, exp };
    } catch {
      return null;
    }
  }
}
