import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

@Injectable()
export class RevokedTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async revoke(jti: string, userId: string, expiresAt: Date, manager: EntityManager): Promise<void> {
    await manager.query(
      'INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING',
      [jti, userId, expiresAt],
    );
  }

  /** Tokens past their expiry are refused anyway; their ids need not be kept. */
  async purgeExpired(): Promise<void> {
    await this.dataSource.query('DELETE FROM revoked_tokens WHERE expires_at < now()');
  }
}
