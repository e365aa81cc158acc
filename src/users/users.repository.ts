import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Role } from '../auth/principal.js';
import { AdvisoryLock, lockForTransaction } from '../database/advisory-locks.js';
import { UserEntity } from './entities/user.entity.js';
import { escapeLike } from '../database/like-pattern.js';

export interface UserWithOrganization {
  readonly user: UserEntity;
  readonly organizationName: string;
}

export interface UserSearch {
  readonly organizationId?: string;
  readonly role?: Role;
  readonly emailContains?: string;
  readonly includeDeleted: boolean;
  readonly offset: number;
  readonly limit: number;
}

/** What authentication needs about a token's user, in one query. */
export interface TokenUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly organizationId: string;
  readonly tokenRevoked: boolean;
}

@Injectable()
export class UsersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  private withOrganization(manager?: EntityManager) {
    return this.manager(manager)
      .getRepository(UserEntity)
      .createQueryBuilder('user')
      .innerJoin('organizations', 'organization', 'organization.id = user.organization_id')
      .addSelect('organization.name', 'organization_name');
  }

  async findById(id: string, manager?: EntityManager): Promise<UserWithOrganization | null> {
    const { entities, raw } = await this.withOrganization(manager)
      .where('user.id = :id', { id })
      .getRawAndEntities<{ organization_name: string }>();
    return entities[0] ? { user: entities[0], organizationName: raw[0].organization_name } : null;
  }

  async search(search: UserSearch): Promise<{ rows: UserWithOrganization[]; total: number }> {
    const query = this.withOrganization();
    if (!search.includeDeleted) query.andWhere('NOT user.is_deleted');
    if (search.organizationId) query.andWhere('user.organization_id = :org', { org: search.organizationId });
    if (search.role) query.andWhere('user.role = :role', { role: search.role });
    if (search.emailContains) {
      query.andWhere("lower(user.email) LIKE '%' || lower(:email) || '%' ESCAPE '\\'", {
        email: escapeLike(search.emailContains),
      });
    }
    const total = await query.getCount();
    const { entities, raw } = await query
      .orderBy('user.created_at', 'ASC')
      .addOrderBy('user.id', 'ASC')
      .offset(search.offset)
      .limit(search.limit)
      .getRawAndEntities<{ organization_name: string }>();
    return { rows: entities.map((user, i) => ({ user, organizationName: raw[i].organization_name })), total };
  }

  /** A live user (and live organization) for a login attempt. */
  findLoginCandidate(email: string): Promise<UserEntity | null> {
    return this.dataSource
      .getRepository(UserEntity)
      .createQueryBuilder('user')
      .innerJoin('organizations', 'organization', 'organization.id = user.organization_id AND organization.deleted_at IS NULL')
      .where('lower(user.email) = lower(:email)', { email })
      .andWhere('NOT user.is_deleted')
      .getOne();
  }

  /** The token's user if still live, and whether this token id was revoked. */
  async findTokenUser(userId: string, jti: string): Promise<TokenUser | null> {
    const rows: Array<{ id: string; email: string; role: Role; organization_id: string; revoked: boolean }> =
      await this.dataSource.query(
        `SELECT u.id, u.email, u.role, u.organization_id,
                EXISTS (SELECT 1 FROM revoked_tokens r WHERE r.jti = $2) AS revoked
           FROM users u
           JOIN organizations o ON o.id = u.organization_id AND o.deleted_at IS NULL
          WHERE u.id = $1 AND NOT u.is_deleted`,
        [userId, jti],
      );
    const row = rows[0];
    return row
      ? { id: row.id, email: row.email, role: row.role, organizationId: row.organization_id, tokenRevoked: row.revoked }
      : null;
  }

  async emailTaken(email: string, exceptUserId: string | null, manager?: EntityManager): Promise<boolean> {
    const query = this.manager(manager)
      .getRepository(UserEntity)
      .createQueryBuilder('user')
      .where('lower(user.email) = lower(:email)', { email })
      .andWhere('NOT user.is_deleted');
    if (exceptUserId) query.andWhere('user.id <> :id', { id: exceptUserId });
    return (await query.getCount()) > 0;
  }

  countLiveAdmins(manager?: EntityManager): Promise<number> {
    return this.manager(manager)
      .getRepository(UserEntity)
      .createQueryBuilder('user')
      .innerJoin('organizations', 'organization', 'organization.id = user.organization_id AND organization.deleted_at IS NULL')
      .where("user.role = 'admin'")
      .andWhere('NOT user.is_deleted')
      .getCount();
  }

  insert(user: Partial<UserEntity>, manager: EntityManager): Promise<UserEntity> {
    return manager.getRepository(UserEntity).save(manager.getRepository(UserEntity).create(user));
  }

  save(user: UserEntity, manager: EntityManager): Promise<UserEntity> {
    return manager.getRepository(UserEntity).save(user);
  }

  async softDeleteByOrganization(organizationId: string, manager: EntityManager): Promise<number> {
    const result = await manager
      .createQueryBuilder()
      .update(UserEntity)
      .set({ isDeleted: true, deletedAt: () => 'now()' })
      .where('organization_id = :organizationId AND NOT is_deleted', { organizationId })
      .execute();
    return result.affected ?? 0;
  }

  async touchLastLogin(userId: string): Promise<void> {
    await this.dataSource.getRepository(UserEntity).update({ id: userId }, { lastLoginAt: () => 'now()' });
  }

  /** Serialises changes that create or remove admins (first-admin bootstrap, demotion, deletion). */
  lockAdminChanges(manager: EntityManager): Promise<void> {
    return lockForTransaction(manager, AdvisoryLock.AdminChanges);
  }
}
