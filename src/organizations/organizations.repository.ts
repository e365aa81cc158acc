import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AdvisoryLock, lockForTransaction } from '../database/advisory-locks.js';
import { OrganizationEntity } from './entities/organization.entity.js';
import { escapeLike } from '../database/like-pattern.js';

export interface OrganizationSearch {
  readonly nameContains?: string;
  /** Non-admins see only their own organization. */
  readonly onlyId?: string;
  readonly offset: number;
  readonly limit: number;
}

export interface CascadeCounts {
  readonly users: number;
  readonly sites: number;
  readonly apiKeys: number;
}

@Injectable()
export class OrganizationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repository(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(OrganizationEntity);
  }

  findLiveById(id: string, manager?: EntityManager): Promise<OrganizationEntity | null> {
    return this.repository(manager)
      .createQueryBuilder('organization')
      .where('organization.id = :id AND organization.deleted_at IS NULL', { id })
      .getOne();
  }

  findLiveByName(name: string, manager?: EntityManager): Promise<OrganizationEntity | null> {
    return this.repository(manager)
      .createQueryBuilder('organization')
      .where('lower(organization.name) = lower(:name) AND organization.deleted_at IS NULL', { name })
      .getOne();
  }

  async search(search: OrganizationSearch): Promise<{ rows: OrganizationEntity[]; total: number }> {
    const query = this.repository().createQueryBuilder('organization').where('organization.deleted_at IS NULL');
    if (search.onlyId) query.andWhere('organization.id = :id', { id: search.onlyId });
    if (search.nameContains) {
      query.andWhere("lower(organization.name) LIKE '%' || lower(:name) || '%' ESCAPE '\\'", {
        name: escapeLike(search.nameContains),
      });
    }
    const [rows, total] = await query
      .orderBy('lower(organization.name)', 'ASC')
      .addOrderBy('organization.id', 'ASC')
      .offset(search.offset)
      .limit(search.limit)
      .getManyAndCount();
    return { rows, total };
  }

  async nameTaken(name: string, exceptId: string | null, manager?: EntityManager): Promise<boolean> {
    const found = await this.findLiveByName(name, manager);
    return found !== null && found.id !== exceptId;
  }

  insert(organization: Partial<OrganizationEntity>, manager: EntityManager): Promise<OrganizationEntity> {
    return this.repository(manager).save(this.repository(manager).create(organization));
  }

  save(organization: OrganizationEntity, manager: EntityManager): Promise<OrganizationEntity> {
    return this.repository(manager).save(organization);
  }

  /**
   * Live admins in live organizations other than this one (who could still manage the installation); takes
   * the admin-changes lock for the rest of the transaction.
   */
  async countLiveAdminsOutside(id: string, manager: EntityManager): Promise<number> {
    await lockForTransaction(manager, AdvisoryLock.AdminChanges);
    const rows = await manager.query<Array<{ count: string }>>(
      `SELECT count(*) FROM users u JOIN organizations o ON o.id = u.organization_id AND o.deleted_at IS NULL
        WHERE u.role = 'admin' AND NOT u.is_deleted AND u.organization_id <> $1`,
      [id],
    );
    return Number(rows[0]?.count ?? 0);
  }

  /**
   * Marks the organization deleted and, in the caller's transaction, soft-deletes its users and sites and
   * revokes its API keys, so their tokens and keys stop working with the commit.
   */
  async softDeleteWithMembers(id: string, manager: EntityManager): Promise<CascadeCounts> {
    await manager.query('UPDATE organizations SET deleted_at = now(), updated_at = now() WHERE id = $1', [id]);
    const [, users] = await manager.query<[unknown, number]>(
      'UPDATE users SET is_deleted = true, deleted_at = now(), updated_at = now() WHERE organization_id = $1 AND NOT is_deleted',
      [id],
    );
    const [, sites] = await manager.query<[unknown, number]>(
      'UPDATE sites SET deleted_at = now(), updated_at = now() WHERE organization_id = $1 AND deleted_at IS NULL',
      [id],
    );
    const [, apiKeys] = await manager.query<[unknown, number]>(
      'UPDATE api_keys SET revoked_at = now() WHERE organization_id = $1 AND revoked_at IS NULL',
      [id],
    );
    return { users, sites, apiKeys };
  }
}
