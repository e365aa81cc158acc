import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { PatchRunStatus } from './dto/patch-run.dto.js';

export interface NewPatchRun {
  readonly siteId: string;
  /** ISO 8601 instants, passed to PostgreSQL as written so no precision is lost. */
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: PatchRunStatus;
  readonly notes: string | null;
  readonly reportedBy: string | null;
  readonly updates: ReadonlyArray<{ readonly module: string; readonly fromVersion: string; readonly toVersion: string }>;
}

export interface PatchRunSearch {
  readonly siteId: string;
  readonly from?: string;
  readonly to?: string;
  readonly status?: PatchRunStatus;
  readonly offset: number;
  readonly limit: number;
}

export interface PatchRunRow {
  readonly id: string;
  readonly site_id: string;
  readonly started_at: Date;
  readonly finished_at: Date;
  readonly status: PatchRunStatus;
  readonly notes: string | null;
  readonly modules_updated: number;
  readonly created_at: Date;
}

export interface PatchRunUpdateRow {
  readonly patch_run_id: string;
  readonly module: string;
  readonly module_id: string | null;
  readonly from_version: string;
  readonly to_version: string;
  readonly update_known_at: Date | null;
  readonly lag_seconds: number | null;
}

const RUN_COLUMNS = 'id, site_id, started_at, finished_at, status, notes, modules_updated, created_at';

@Injectable()
export class PatchRunsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One statement for the run and all its updates: each update's module is resolved from the catalog by name
   * and its lag start from the site's version history (when an update for from_version was first known, if
   * that was no later than the run's end).
   */
  async insert(run: NewPatchRun, manager: EntityManager): Promise<string> {
    const rows = await manager.query<Array<{ id: string }>>(
      `WITH run AS (
         INSERT INTO patch_runs (site_id, started_at, finished_at, status, notes, modules_updated, reported_by)
         VALUES ($1, $2::timestamptz, $3::timestamptz, $4, $5, cardinality($6::text[]), $9)
         RETURNING id, site_id, finished_at
       ), updates AS (
         INSERT INTO patch_run_updates (patch_run_id, position, module, module_id, from_version, to_version, update_known_at)
         SELECT run.id, entry.position - 1, entry.module, module.id, entry.from_version, entry.to_version,
                version.update_known_at
           FROM run
          CROSS JOIN unnest($6::text[], $7::text[], $8::text[])
                WITH ORDINALITY AS entry (module, from_version, to_version, position)
           LEFT JOIN modules module ON module.name = entry.module
           LEFT JOIN module_versions version
                  ON version.module_id = module.id AND version.version = entry.from_version
                 AND version.site_id = run.site_id AND version.update_known_at <= run.finished_at
       )
       SELECT id FROM run`,
      [
        run.siteId,
        run.startedAt,
        run.finishedAt,
        run.status,
        run.notes,
        run.updates.map((update) => update.module),
        run.updates.map((update) => update.fromVersion),
        run.updates.map((update) => update.toVersion),
        run.reportedBy,
      ],
    );
    const id = rows[0]?.id;
    if (!id) throw new Error('patch run insert returned no row');
    return id;
  }

  async findById(id: string, manager?: EntityManager): Promise<PatchRunRow | null> {
    const rows = await (manager ?? this.dataSource).query<PatchRunRow[]>(
      `SELECT ${RUN_COLUMNS} FROM patch_runs WHERE id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** A site's runs, newest first (on patch_runs_site_idx), with the total from the same round trip. */
  async search(search: PatchRunSearch): Promise<{ rows: PatchRunRow[]; total: number }> {
    const conditions = ['site_id = $1'];
    const parameters: unknown[] = [search.siteId];
    if (search.from !== undefined) {
      parameters.push(search.from);
      conditions.push(`finished_at >= $${parameters.length}::timestamptz`);
    }
    if (search.to !== undefined) {
      parameters.push(search.to);
      conditions.push(`finished_at <= $${parameters.length}::timestamptz`);
    }
    if (search.status !== undefined) {
      parameters.push(search.status);
      conditions.push(`status = $${parameters.length}`);
    }
    const where = conditions.join(' AND ');
    const filters = parameters.length;
    parameters.push(search.offset, search.limit);
    const rows = await this.dataSource.query<Array<PatchRunRow & { total: string }>>(
      `SELECT ${RUN_COLUMNS}, count(*) OVER () AS total FROM patch_runs WHERE ${where}
        ORDER BY finished_at DESC, id OFFSET $${filters + 1} LIMIT $${filters + 2}`,
      parameters,
    );
    if (rows.length > 0) return { rows, total: Number(rows[0]?.total) };
    const counted = await this.dataSource.query<Array<{ count: string }>>(
      `SELECT count(*) FROM patch_runs WHERE ${where}`,
      parameters.slice(0, filters),
    );
    return { rows: [], total: Number(counted[0]?.count ?? 0) };
  }

  /** The updates of these runs in their submitted order, with each one's lag behind its run's end. */
  findUpdates(runIds: readonly string[], manager?: EntityManager): Promise<PatchRunUpdateRow[]> {
    if (runIds.length === 0) return Promise.resolve([]);
    return (manager ?? this.dataSource).query<PatchRunUpdateRow[]>(
      `SELECT u.patch_run_id, u.module, u.module_id, u.from_version, u.to_version, u.update_known_at,
              extract(epoch FROM run.finished_at - u.update_known_at)::float8 AS lag_seconds
         FROM patch_run_updates u
         JOIN patch_runs run ON run.id = u.patch_run_id
        WHERE u.patch_run_id = ANY($1::uuid[])
        ORDER BY u.patch_run_id, u.position`,
      [runIds],
    );
  }
}
