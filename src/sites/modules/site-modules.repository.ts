import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { ModuleState, ModuleType } from './dto/module-report.dto.js';
import type { StatusSource, UpdateStatus } from './dto/site-module.dto.js';

/** One reported module, already validated, in the shape the SQL below reads with jsonb_to_recordset. */
export interface ReportedModule {
  readonly name: string;
  readonly project: string | null;
  readonly version: string;
  readonly type: ModuleType | null;
  readonly status: ModuleState;
  readonly latest_version: string | null;
  readonly update_available: boolean | null;
  readonly security_update: boolean | null;
}

export interface AppliedReport {
  readonly siteId: string;
  readonly drupalVersion: string;
  readonly phpVersion: string | null;
  readonly modules: readonly ReportedModule[];
}

export interface IngestCounts {
  readonly receivedAt: Date;
  readonly added: number;
  readonly versionChanged: number;
  readonly removed: number;
  /** Catalog modules whose project this report changed: their statuses on other sites are stale now. */
  readonly reprojectedModuleIds: readonly string[];
}

export interface SiteModuleRow {
  module_id: string;
  name: string;
  project: string;
  type: ModuleType;
  status: ModuleState;
  installed_version: string;
  recommended_version: string | null;
  update_status: UpdateStatus;
  status_source: StatusSource;
  status_reason: string | null;
  update_available_since: Date | null;
  first_seen_at: Date;
  last_seen_at: Date;
}

export interface ModuleVersionRow {
  version: string;
  first_seen_at: Date;
  last_seen_at: Date;
  site_count: string;
  sites: Array<{
    site_id: string;
    site_name: string;
    site_url: string;
    first_seen_at: string;
    last_seen_at: string;
    current: boolean;
  }>;
}

const REPORTED = `jsonb_to_recordset($1::jsonb) AS r(name text, project text, version text, type text, status text,
  latest_version text, update_available boolean, security_update boolean)`;

/** Most urgent first, so a page of a site's modules starts with what needs doing. */
const STATUS_ORDER = `CASE sm.update_status WHEN 'security_update' THEN 0 WHEN 'revoked' THEN 1 WHEN 'unsupported' THEN 2
  WHEN 'update_available' THEN 3 WHEN 'unknown' THEN 4 ELSE 5 END`;

/**
 * Module reports and what they leave behind: the catalog, each site's current modules and version history.
 * Every statement works on the whole report at once; none runs per module.
 */
@Injectable()
export class SiteModulesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One statement per report: unknown machine names join the catalog (and a project or type a report states
   * explicitly is recorded), the site's current modules become exactly the report (reported ones upserted,
   * the rest marked removed), the version history is extended and the site records the report. A changed
   * installed version forgets when an update was known for the old one.
   *
   * Locks are taken in one order so concurrent reports cannot deadlock: new catalog names in name order first,
   * then (once those are in) catalog rows to restate, also in name order.
   */
  async applyReport(report: AppliedReport, manager: EntityManager): Promise<IngestCounts> {
    const rows = await manager.query<
      Array<{ received_at: Date; added: string; version_changed: string; removed: string; reprojected: string[] }>
    >(
      `WITH r AS (SELECT * FROM ${REPORTED}),
       at AS MATERIALIZED (SELECT clock_timestamp() AS t),
       -- DO UPDATE (not DO NOTHING) so a name another report inserts meanwhile still comes back with its id; it
       -- touches no key column, so its row lock does not block other reports' foreign-key checks.
       inserted AS (
         INSERT INTO modules (name, project, type)
         SELECT r.name, COALESCE(r.project, r.name), COALESCE(r.type, 'module') FROM r
          WHERE NOT EXISTS (SELECT 1 FROM modules m WHERE m.name = r.name)
          ORDER BY r.name
         ON CONFLICT (name) DO UPDATE SET project = modules.project
         RETURNING id, name
       ),
       to_restate AS (
         SELECT m.id, r.project, r.type, m.project AS previous_project FROM r JOIN modules m ON m.name = r.name
          WHERE ((r.project IS NOT NULL AND r.project <> m.project) OR (r.type IS NOT NULL AND r.type <> m.type))
            AND (SELECT count(*) FROM inserted) >= 0
          ORDER BY m.name
            FOR NO KEY UPDATE OF m
       ),
       restated AS (
         UPDATE modules m SET project = COALESCE(to_restate.project, m.project), type = COALESCE(to_restate.type, m.type),
                updated_at = now()
           FROM to_restate WHERE m.id = to_restate.id
         RETURNING m.id, to_restate.project <> to_restate.previous_project AS reprojected
       ),
       reported AS (
         SELECT COALESCE(m.id, i.id) AS module_id, r.*
           FROM r LEFT JOIN modules m ON m.name = r.name LEFT JOIN inserted i ON i.name = r.name
       ),
       previous AS (
         SELECT module_id, installed_version, removed_at IS NULL AS live FROM site_modules WHERE site_id = $2
       ),
       upserted AS (
         INSERT INTO site_modules AS sm (site_id, module_id, installed_version, status, reported_latest_version,
                reported_update_available, reported_security_update, first_seen_at, last_seen_at, removed_at)
         SELECT $2, reported.module_id, reported.version, reported.status, reported.latest_version,
                reported.update_available, reported.security_update, at.t, at.t, NULL
           FROM reported CROSS JOIN at
          ORDER BY reported.module_id
         ON CONFLICT (site_id, module_id) DO UPDATE SET
           installed_version = EXCLUDED.installed_version,
           status = EXCLUDED.status,
           reported_latest_version = EXCLUDED.reported_latest_version,
           reported_update_available = EXCLUDED.reported_update_available,
           reported_security_update = EXCLUDED.reported_security_update,
           last_seen_at = EXCLUDED.last_seen_at,
           removed_at = NULL,
           update_available_since = CASE
             WHEN sm.installed_version = EXCLUDED.installed_version AND sm.removed_at IS NULL THEN sm.update_available_since
           END
         RETURNING module_id, installed_version
       ),
       removed AS (
         UPDATE site_modules sm SET removed_at = (SELECT t FROM at), update_available_since = NULL
          WHERE sm.site_id = $2 AND sm.removed_at IS NULL
            -- NOT IN over a subquery runs as a hashed subplan; NOT EXISTS was planned as a nested loop (the
            -- planner guesses 100 rows for jsonb_to_recordset), quadratic for a 5,000-module report.
            AND sm.module_id NOT IN (SELECT module_id FROM reported)
         RETURNING 1
       ),
       versions AS (
         INSERT INTO module_versions (module_id, version, site_id, first_seen_at, last_seen_at)
         SELECT reported.module_id, reported.version, $2, at.t, at.t FROM reported CROSS JOIN at ORDER BY 1
         ON CONFLICT (module_id, version, site_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
         RETURNING 1
       ),
       site AS (
         UPDATE sites SET drupal_version = $3, php_version = $4, last_report_at = (SELECT t FROM at), updated_at = now()
          WHERE id = $2
         RETURNING 1
       )
       SELECT (SELECT t FROM at) AS received_at,
              (SELECT count(*) FROM upserted u LEFT JOIN previous p USING (module_id)
                WHERE p.module_id IS NULL OR NOT p.live) AS added,
              (SELECT count(*) FROM upserted u JOIN previous p USING (module_id)
                WHERE p.live AND p.installed_version <> u.installed_version) AS version_changed,
              (SELECT count(*) FROM removed) AS removed,
              (SELECT count(*) FROM versions) AS versions,
              (SELECT count(*) FROM restated) AS restated,
              (SELECT COALESCE(array_agg(id::text ORDER BY id), '{}') FROM restated WHERE reprojected) AS reprojected,
              (SELECT count(*) FROM site) AS sites`,
      [JSON.stringify(report.modules), report.siteId, report.drupalVersion, report.phpVersion],
    );
    const row = rows[0];
    return {
      receivedAt: row?.received_at ?? new Date(),
      added: Number(row?.added ?? 0),
      versionChanged: Number(row?.version_changed ?? 0),
      removed: Number(row?.removed ?? 0),
      reprojectedModuleIds: row?.reprojected ?? [],
    };
  }

  async countByStatus(siteId: string, manager: EntityManager): Promise<Record<UpdateStatus, number>> {
    const rows = await manager.query<Array<{ update_status: UpdateStatus; count: string }>>(
      `SELECT update_status, count(*) FROM site_modules WHERE site_id = $1 AND removed_at IS NULL GROUP BY update_status`,
      [siteId],
    );
    const counts: Record<UpdateStatus, number> = {
      current: 0,
      update_available: 0,
      security_update: 0,
      unsupported: 0,
      revoked: 0,
      unknown: 0,
    };
    for (const row of rows) counts[row.update_status] = Number(row.count);
    return counts;
  }

  /** The site's current modules, most urgent first, with the page's total. */
  async listCurrent(
    siteId: string,
    status: UpdateStatus | undefined,
    offset: number,
    limit: number,
  ): Promise<{ rows: SiteModuleRow[]; total: number }> {
    const parameters: unknown[] = [siteId];
    let filter = '';
    if (status) {
      parameters.push(status);
      filter = 'AND sm.update_status = $2';
    }
    parameters.push(offset, limit);
    const rows = await this.dataSource.query<Array<SiteModuleRow & { total: string }>>(
      `SELECT sm.module_id, m.name, m.project, m.type, sm.status, sm.installed_version, sm.recommended_version,
              sm.update_status, sm.status_source, sm.status_reason, sm.update_available_since, sm.first_seen_at,
              sm.last_seen_at, count(*) OVER () AS total
         FROM site_modules sm JOIN modules m ON m.id = sm.module_id
        WHERE sm.site_id = $1 AND sm.removed_at IS NULL ${filter}
        ORDER BY ${STATUS_ORDER}, m.name
        OFFSET $${parameters.length - 1} LIMIT $${parameters.length}`,
      parameters,
    );
    if (rows.length > 0 || offset === 0) return { rows, total: Number(rows[0]?.total ?? 0) };
    const counted = await this.dataSource.query<Array<{ count: string }>>(
      `SELECT count(*) FROM site_modules sm WHERE sm.site_id = $1 AND sm.removed_at IS NULL ${filter}`,
      parameters.slice(0, parameters.length - 2),
    );
    return { rows, total: Number(counted[0]?.count ?? 0) };
  }

  findModule(moduleId: string): Promise<Array<{ id: string; name: string }>> {
    return this.dataSource.query('SELECT id, name FROM modules WHERE id = $1', [moduleId]);
  }

  /**
   * The versions of a module seen on the sites in reach (live sites of one organization, or all for null),
   * newest sighting first, each with its sites.
   */
  async listVersions(
    moduleId: string,
    organizationId: string | null,
    offset: number,
    limit: number,
  ): Promise<{ rows: ModuleVersionRow[]; total: number }> {
    const rows = await this.dataSource.query<Array<ModuleVersionRow & { total: string }>>(
      `WITH seen AS (
         SELECT mv.version, mv.first_seen_at, mv.last_seen_at, s.id AS site_id, s.name AS site_name, s.url AS site_url,
                (sm.installed_version = mv.version AND sm.removed_at IS NULL) AS current
           FROM module_versions mv
           JOIN sites s ON s.id = mv.site_id AND s.deleted_at IS NULL AND ($2::uuid IS NULL OR s.organization_id = $2)
           LEFT JOIN site_modules sm ON sm.site_id = mv.site_id AND sm.module_id = mv.module_id
          WHERE mv.module_id = $1
       )
       SELECT version, min(first_seen_at) AS first_seen_at, max(last_seen_at) AS last_seen_at, count(*) AS site_count,
              jsonb_agg(jsonb_build_object('site_id', site_id, 'site_name', site_name, 'site_url', site_url,
                'first_seen_at', first_seen_at, 'last_seen_at', last_seen_at, 'current', COALESCE(current, false))
                ORDER BY site_name, site_id) AS sites,
              count(*) OVER () AS total
         FROM seen GROUP BY version
        ORDER BY max(last_seen_at) DESC, version DESC
        OFFSET $3 LIMIT $4`,
      [moduleId, organizationId, offset, limit],
    );
    if (rows.length > 0 || offset === 0) return { rows, total: Number(rows[0]?.total ?? 0) };
    const counted = await this.dataSource.query<Array<{ count: string }>>(
      `SELECT count(DISTINCT mv.version) FROM module_versions mv
         JOIN sites s ON s.id = mv.site_id AND s.deleted_at IS NULL AND ($2::uuid IS NULL OR s.organization_id = $2)
        WHERE mv.module_id = $1`,
      [moduleId, organizationId],
    );
    return { rows, total: Number(counted[0]?.count ?? 0) };
  }
}
