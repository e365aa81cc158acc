import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditLogEntity } from './entities/audit-log.entity.js';

export interface AuditSearch {
  readonly from?: Date;
  readonly to?: Date;
  readonly statusCode?: number;
  readonly outcome?: 'success' | 'failure';
  readonly actorId?: string;
  readonly actorLabel?: string;
  readonly action?: string;
  readonly resourceType?: string;
  readonly offset: number;
  readonly limit: number;
}

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(row: Omit<AuditLogEntity, 'id' | 'occurredAt'>, manager?: EntityManager): Promise<void> {
    const repository = (manager ?? this.dataSource.manager).getRepository(AuditLogEntity);
    await repository.save(repository.create(row), { reload: false });
  }

  /** Newest first; every filter is indexed or narrows an indexed range. */
  async search(search: AuditSearch): Promise<{ rows: AuditLogEntity[]; total: number }> {
    const query = this.dataSource.getRepository(AuditLogEntity).createQueryBuilder('log');
    if (search.from) query.andWhere('log.occurred_at >= :from', { from: search.from });
    // Timestamps are stored to the microsecond but shown to the millisecond: `to` covers its whole millisecond.
    if (search.to) {
      query.andWhere(`log.occurred_at < CAST(:to AS timestamptz) + interval '1 millisecond'`, { to: search.to });
    }
    if (search.statusCode !== undefined) query.andWhere('log.status_code = :statusCode', { statusCode: search.statusCode });
    if (search.outcome) query.andWhere('log.outcome = :outcome', { outcome: search.outcome });
    if (search.actorId) query.andWhere('log.actor_id = :actorId', { actorId: search.actorId });
    if (search.actorLabel) {
      query.andWhere('lower(log.actor_label) = lower(:actorLabel)', { actorLabel: search.actorLabel });
    }
    if (search.action) query.andWhere('log.action = :action', { action: search.action });
    if (search.resourceType) query.andWhere('log.resource_type = :resourceType', { resourceType: search.resourceType });
    const [rows, total] = await query
      .orderBy('log.occurred_at', 'DESC')
      .addOrderBy('log.id', 'DESC')
      .offset(search.offset)
      .limit(search.limit)
      .getManyAndCount();
    return { rows, total };
  }
}
