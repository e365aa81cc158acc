import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { ApiKeyEntity } from './entities/api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repository(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(ApiKeyEntity);
  }

  /** A usable key: not revoked, not expired, its organization live. */
  findUsableByHash(keyHash: string): Promise<ApiKeyEntity | null> {
    return this.repository()
      .createQueryBuilder('key')
      .innerJoin('organizations', 'organization', 'organization.id = key.organization_id AND organization.deleted_at IS NULL')
      .where('key.key_hash = :keyHash', { keyHash })
      .andWhere('key.revoked_at IS NULL')
      .andWhere('(key.expires_at IS NULL OR key.expires_at > now())')
      .getOne();
  }

  async siteInOrganization(siteId: string, organizationId: string, manager: EntityManager): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      'SELECT 1 FROM sites WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL',
      [siteId, organizationId],
    );
    return rows.length > 0;
  }

  findById(id: string, manager?: EntityManager): Promise<ApiKeyEntity | null> {
    return this.repository(manager).findOneBy({ id });
  }

  async list(offset: number, limit: number, organizationId?: string): Promise<{ rows: ApiKeyEntity[]; total: number }> {
    const query = this.repository().createQueryBuilder('key');
    if (organizationId) query.where('key.organization_id = :organizationId', { organizationId });
    const [rows, total] = await query
      .orderBy('key.created_at', 'DESC')
      .addOrderBy('key.id', 'DESC')
      .offset(offset)
      .limit(limit)
      .getManyAndCount();
    return { rows, total };
  }

  insert(key: Partial<ApiKeyEntity>, manager: EntityManager): Promise<ApiKeyEntity> {
    return this.repository(manager).save(this.repository(manager).create(key));
  }

  async revoke(id: string, manager: EntityManager): Promise<void> {
    await this.repository(manager).update({ id }, { revokedAt: () => 'now()' });
  }

  /** Marks the key used; the caller skips keys touched within LAST_USED_RESOLUTION_MS, so most requests write nothing. */
  async touchLastUsed(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE api_keys SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }
}

/** last_used_at is kept to the minute: enough to see which keys are in use without a write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;
