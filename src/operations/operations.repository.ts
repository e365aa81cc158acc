import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  OperationEntity,
  type OperationError,
  type OperationProgress,
  type OperationStatus,
} from './entities/operation.entity.js';

export interface NewOperation {
  readonly type: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly lockKey: string | null;
  readonly input: Record<string, unknown>;
  readonly instance: string;
  readonly requestedByKind: string;
  readonly requestedById: string | null;
  readonly requestedByLabel: string;
  readonly organizationId: string | null;
}

export interface OperationSearch {
  readonly type?: string;
  readonly status?: OperationStatus;
  readonly resourceType?: string;
  readonly resourceId?: string;
  readonly offset: number;
  readonly limit: number;
}

type Outcome = Extract<OperationStatus, 'succeeded' | 'failed' | 'cancelled' | 'interrupted'>;

@Injectable()
export class OperationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** False when the app was built without a database (OpenAPI generation). */
  get connected(): boolean {
    return this.dataSource.isInitialized;
  }

  private get repository() {
    return this.dataSource.getRepository(OperationEntity);
  }

  /** Inserts a pending operation, or returns null when its lock key is held by an unfinished one. */
  async insertUnlessLocked(operation: NewOperation): Promise<OperationEntity | null> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO operations (type, resource_type, resource_id, lock_key, input, instance,
                               requested_by_kind, requested_by_id, requested_by_label, organization_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (lock_key) WHERE status IN ('pending', 'running') DO NOTHING
       RETURNING id`,
      [
        operation.type,
        operation.resourceType,
        operation.resourceId,
        operation.lockKey,
        operation.input,
        operation.instance,
        operation.requestedByKind,
        operation.requestedById,
        operation.requestedByLabel,
        operation.organizationId,
      ],
    );
    return rows.length === 0 ? null : this.findById(rows[0].id);
  }

  findById(id: string): Promise<OperationEntity | null> {
    return this.repository.findOneBy({ id });
  }

  findActiveByLockKey(lockKey: string): Promise<OperationEntity | null> {
    return this.repository
      .createQueryBuilder('operation')
      .where("operation.lock_key = :lockKey AND operation.status IN ('pending', 'running')", { lockKey })
      .getOne();
  }

  async search(search: OperationSearch): Promise<{ rows: OperationEntity[]; total: number }> {
    const query = this.repository.createQueryBuilder('operation');
    if (search.type) query.andWhere('operation.type = :type', { type: search.type });
    if (search.status) query.andWhere('operation.status = :status', { status: search.status });
    if (search.resourceType) query.andWhere('operation.resource_type = :resourceType', { resourceType: search.resourceType });
    if (search.resourceId) query.andWhere('operation.resource_id = :resourceId', { resourceId: search.resourceId });
    const [rows, total] = await query
      .orderBy('operation.created_at', 'DESC')
      .addOrderBy('operation.id', 'DESC')
      .offset(search.offset)
      .limit(search.limit)
      .getManyAndCount();
    return { rows, total };
  }

  /** pending → running; false when it was cancelled (or claimed) first. */
  async markRunning(id: string): Promise<boolean> {
    const result = await this.repository
      .createQueryBuilder()
      .update()
      .set({ status: 'running', startedAt: () => 'now()' })
      .where("id = :id AND status = 'pending'", { id })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async saveProgress(id: string, progress: OperationProgress): Promise<void> {
    await this.dataSource.query("UPDATE operations SET progress = $2 WHERE id = $1 AND status = 'running'", [id, progress]);
  }

  /** Ends an unfinished operation; false when it had already ended. */
  async finish(
    id: string,
    outcome: Outcome,
    fields: { readonly result?: unknown; readonly error?: OperationError | null },
    from: readonly OperationStatus[] = ['pending', 'running'],
  ): Promise<boolean> {
    // Wrapped in a CTE so the driver answers rows as for a SELECT (a bare UPDATE answers [rows, count]).
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `WITH ended AS (
         UPDATE operations
            SET status = $2, result = $3, error = $4, finished_at = now()
          WHERE id = $1 AND status = ANY($5)
          RETURNING id)
       SELECT id FROM ended`,
      [id, outcome, fields.result === undefined ? null : JSON.stringify(fields.result), fields.error ?? null, from],
    );
    return rows.length > 0;
  }

  /** Ends whatever an instance left pending or running (it crashed or is shutting down). */
  async interruptUnfinished(instance: string, error: OperationError, ids?: readonly string[]): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `WITH ended AS (
         UPDATE operations
            SET status = 'interrupted', error = $2, finished_at = now()
          WHERE instance = $1 AND status IN ('pending', 'running') AND ($3::uuid[] IS NULL OR id = ANY($3))
          RETURNING id)
       SELECT id FROM ended`,
      [instance, error, ids ?? null],
    );
    return rows.map((row) => row.id);
  }
}
