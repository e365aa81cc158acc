import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { ReleaseEntity } from './entities/release.entity.js';
import { ReleaseProjectEntity } from './entities/release-project.entity.js';
import type { ProjectStatus, ReleaseHistory, ReleaseStatus } from './release-history.parser.js';

/** A stored history as the evaluator reads it. */
export interface StoredHistory {
  readonly name: string;
  readonly projectStatus: ProjectStatus;
  readonly supportedBranches: readonly string[];
  /** imported_at to the microsecond: a cached copy is valid while this is unchanged. */
  readonly importStamp: string;
  readonly releases: ReadonlyArray<{ version: string; status: ReleaseStatus; releaseTypes: string[] }>;
}

/** imported_at to the microsecond, as text: what a cached history is checked against. */
export const IMPORT_STAMP_SQL = `to_char(p.imported_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')`;

/** Imported release histories: one project row and its releases, always replaced together. */
@Injectable()
export class ReleaseHistoryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts or overwrites the project row; the row lock it takes serializes imports of one project. */
  async upsertProject(history: ReleaseHistory, manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO release_projects (name, title, project_status, supported_branches, imported_at)
       VALUES ($1, $2, $3, $4::text[], clock_timestamp())
       ON CONFLICT (name) DO UPDATE SET
         title = EXCLUDED.title,
         project_status = EXCLUDED.project_status,
         supported_branches = EXCLUDED.supported_branches,
         imported_at = EXCLUDED.imported_at`,
      [history.name, history.title, history.projectStatus, history.supportedBranches],
    );
  }

  /** The project's releases become exactly these: one DELETE and one INSERT ... SELECT, whatever their number. */
  async replaceReleases(history: ReleaseHistory, manager: EntityManager): Promise<number> {
    await manager.query('DELETE FROM releases WHERE project = $1', [history.name]);
    const rows = history.releases.map((release) => ({
      version: release.version,
      status: release.status,
      released_at: release.releasedAt?.toISOString() ?? null,
      release_types: release.releaseTypes,
      security_covered: release.securityCovered,
    }));
    const [, inserted] = await manager.query<[unknown, number]>(
      `INSERT INTO releases (project, version, status, released_at, release_types, security_covered)
       SELECT $1, r.version, r.status, r.released_at,
              ARRAY(SELECT jsonb_array_elements_text(r.release_types)), r.security_covered
         FROM jsonb_to_recordset($2::jsonb)
              AS r(version text, status text, released_at timestamptz, release_types jsonb, security_covered boolean)`,
      [history.name, JSON.stringify(rows)],
    );
    return typeof inserted === 'number' ? inserted : rows.length;
  }

  findProject(name: string): Promise<ReleaseProjectEntity | null> {
    return this.dataSource.getRepository(ReleaseProjectEntity).findOneBy({ name });
  }

  /** Newest first by release date (version strings do not sort in SQL), undated ones last. */
  async listReleases(project: string, offset: number, limit: number): Promise<{ rows: ReleaseEntity[]; total: number }> {
    const [rows, total] = await this.dataSource
      .getRepository(ReleaseEntity)
      .createQueryBuilder('release')
      .where('release.project = :project', { project })
      .orderBy('release.released_at', 'DESC', 'NULLS LAST')
      .addOrderBy('release.version', 'DESC')
      .offset(offset)
      .limit(limit)
      .getManyAndCount();
    return { rows, total };
  }

  /** Whole histories of these projects, in two queries. */
  async loadHistories(projects: readonly string[], manager: EntityManager): Promise<StoredHistory[]> {
    if (projects.length === 0) return [];
    const projectRows = await manager.query<
      Array<{ name: string; project_status: ProjectStatus; supported_branches: string[]; stamp: string }>
    >(
      `SELECT p.name, p.project_status, p.supported_branches, ${IMPORT_STAMP_SQL} AS stamp FROM release_projects p
        WHERE p.name = ANY($1::text[])`,
      [projects],
    );
    const releaseRows = await manager.query<
      Array<{ project: string; version: string; status: ReleaseStatus; release_types: string[] }>
    >('SELECT project, version, status, release_types FROM releases WHERE project = ANY($1::text[])', [projects]);
    const releasesByProject = new Map<string, Array<{ version: string; status: ReleaseStatus; releaseTypes: string[] }>>();
    for (const row of releaseRows) {
      const list = releasesByProject.get(row.project) ?? [];
      list.push({ version: row.version, status: row.status, releaseTypes: row.release_types });
      releasesByProject.set(row.project, list);
    }
    return projectRows.map((row) => ({
      name: row.name,
      projectStatus: row.project_status,
      supportedBranches: row.supported_branches,
      importStamp: row.stamp,
      releases: releasesByProject.get(row.name) ?? [],
    }));
  }
}
