import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { IdracServerEntity } from './entities/idrac-server.entity.js';
import { escapeLike } from '../database/like-pattern.js';

export type NewIdracServer = Omit<IdracServerEntity, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt' | 'hostKeyFingerprint'>;
export type IdracServerChanges = Partial<Omit<IdracServerEntity, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt' | 'createdBy'>>;

@Injectable()
export class IdracServersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repository() {
    return this.dataSource.getRepository(IdracServerEntity);
  }

  insert(server: NewIdracServer): Promise<IdracServerEntity> {
    return this.repository.save(this.repository.create({ ...server, hostKeyFingerprint: null }));
  }

  findLive(id: string): Promise<IdracServerEntity | null> {
    return this.repository
      .createQueryBuilder('server')
      .where('server.id = :id AND server.deleted_at IS NULL', { id })
      .getOne();
  }

  findLiveByIds(ids: readonly string[]): Promise<IdracServerEntity[]> {
    return this.repository
      .createQueryBuilder('server')
      .where('server.id = ANY(:ids) AND server.deleted_at IS NULL', { ids })
      .orderBy('server.name', 'ASC')
      .getMany();
  }

  findLiveByTag(tag: string): Promise<IdracServerEntity[]> {
    return this.repository
      .createQueryBuilder('server')
      .where(':tag = ANY(server.tags) AND server.deleted_at IS NULL', { tag })
      .orderBy('server.name', 'ASC')
      .getMany();
  }

  async nameTaken(name: string, exceptId: string | null): Promise<boolean> {
    const query = this.repository
      .createQueryBuilder('server')
      .where('lower(server.name) = lower(:name) AND server.deleted_at IS NULL', { name });
    if (exceptId) query.andWhere('server.id <> :exceptId', { exceptId });
    return (await query.getCount()) > 0;
  }

  async search(filter: { tag?: string; q?: string; offset: number; limit: number }): Promise<{ rows: IdracServerEntity[]; total: number }> {
    const query = this.repository.createQueryBuilder('server').where('server.deleted_at IS NULL');
    if (filter.tag) query.andWhere(':tag = ANY(server.tags)', { tag: filter.tag });
    if (filter.q) {
      query.andWhere("(lower(server.name) LIKE '%' || lower(:q) || '%' ESCAPE '\\' OR lower(server.host) LIKE '%' || lower(:q) || '%' ESCAPE '\\')", {
        q: escapeLike(filter.q),
      });
    }
    const [rows, total] = await query
      .orderBy('lower(server.name)', 'ASC')
      .addOrderBy('server.id', 'ASC')
      .offset(filter.offset)
      .limit(filter.limit)
      .getManyAndCount();
    return { rows, total };
  }

  async update(id: string, changes: IdracServerChanges): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update()
      .set({ ...changes, updatedAt: () => 'now()' })
      .where('id = :id AND deleted_at IS NULL', { id })
      .execute();
  }

  /** Stores the host key seen on first contact, unless one was pinned meanwhile. */
  async pinHostKey(id: string, fingerprint: string): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update()
      .set({ hostKeyFingerprint: fingerprint })
      .where('id = :id AND host_key_fingerprint IS NULL', { id })
      .execute();
  }

  /** pinHostKey for several servers in one statement; a server already pinned keeps its key. */
  async pinHostKeys(pins: ReadonlyArray<{ readonly id: string; readonly fingerprint: string }>): Promise<void> {
    if (pins.length === 0) return;
    await this.dataSource.query(
      `UPDATE idrac_servers s SET host_key_fingerprint = v.fingerprint
         FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, fingerprint varchar)
        WHERE s.id = v.id AND s.host_key_fingerprint IS NULL`,
      [JSON.stringify(pins.map(({ id, fingerprint }) => ({ id, fingerprint })))],
    );
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
