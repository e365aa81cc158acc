import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { IdracKeyEntity } from './entities/idrac-key.entity.js';
import { escapeLike } from '../database/like-pattern.js';

@Injectable()
export class IdracKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repository() {
    return this.dataSource.getRepository(IdracKeyEntity);
  }

  insert(key: Omit<IdracKeyEntity, 'createdAt' | 'deletedAt'>): Promise<IdracKeyEntity> {
    return this.repository.save(this.repository.create(key));
  }

  findLive(id: string): Promise<IdracKeyEntity | null> {
    return this.repository
      .createQueryBuilder('key')
      .where('key.id = :id AND key.deleted_at IS NULL', { id })
      .getOne();
  }

  async nameTaken(name: string): Promise<boolean> {
    return (
      (await this.repository
        .createQueryBuilder('key')
        .where('lower(key.name) = lower(:name) AND key.deleted_at IS NULL', { name })
        .getCount()) > 0
    );
  }

  async search(nameContains: string | undefined, offset: number, limit: number): Promise<{ rows: IdracKeyEntity[]; total: number }> {
    const query = this.repository.createQueryBuilder('key').where('key.deleted_at IS NULL');
    if (nameContains) {
      query.andWhere("lower(key.name) LIKE '%' || lower(:name) || '%' ESCAPE '\\'", {
        name: escapeLike(nameContains),
      });
    }
    const [rows, total] = await query
      .orderBy('key.created_at', 'DESC')
      .addOrderBy('key.id', 'DESC')
      .offset(offset)
      .limit(limit)
      .getManyAndCount();
    return { rows, total };
  }

  /** What still needs the key: servers logging in with it and deployments not yet ended. */
  async usage(id: string): Promise<{ servers: number; activeDeployments: number }> {
    const [row] = await this.dataSource.query<Array<{ servers: number; active_deployments: number }>>(
      `SELECT (SELECT count(*) FROM idrac_servers WHERE auth_key_id = $1 AND deleted_at IS NULL)::int AS servers,
              (SELECT count(*) FROM idrac_deployments d JOIN operations o ON o.id = d.operation_id
                WHERE d.key_id = $1 AND o.status IN ('pending', 'running'))::int AS active_deployments`,
      [id],
    );
    return { servers: row.servers, activeDeployments: row.active_deployments };
  }

  async softDelete(id: string): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update()
      .set({ deletedAt: () => 'now()' })
      .where('id = :id AND deleted_at IS NULL', { id })
      .execute();
  }
}
