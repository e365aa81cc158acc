import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ModuleStatus } from './module-status.evaluator.js';
import { IMPORT_STAMP_SQL } from './release-history.repository.js';

/** Which live site_modules a refresh touches: those of some sites, of some catalog modules, or of some projects. */
export type StatusScope =
  | { readonly kind: 'sites'; readonly siteIds: readonly string[] }
  | { readonly kind: 'modules'; readonly moduleIds: readonly string[] }
  | { readonly kind: 'projects'; readonly projects: readonly string[] };

export interface InstalledVersion {
  readonly project: string;
  readonly version: string;
}

export interface InstalledVersionWithStamp extends InstalledVersion {
  /** The project's release_projects.imported_at, to the microsecond (see ReleaseHistoryRepository). */
  readonly import_stamp: string;
}

/** One verdict per distinct (project, installed version), applied to every matching row at once. */
export interface VersionVerdict extends InstalledVersion {
  readonly status: ModuleStatus;
  readonly recommendedVersion: string | null;
  readonly reason: string;
}

/** `$1` is always the scope's array. */
function scopeFilter(scope: StatusScope): { sql: string; parameter: readonly string[] } {
  switch (scope.kind) {
    case 'sites':
      return { sql: 'sm.site_id = ANY($1::uuid[])', parameter: scope.siteIds };
    case 'modules':
      return { sql: 'sm.module_id = ANY($1::uuid[])', parameter: scope.moduleIds };
    case 'projects':
      return { sql: 'm.project = ANY($1::text[])', parameter: scope.projects };
  }
}

const NEEDS_UPDATE = `('update_available', 'security_update')`;

/**
 * Follows a `changed` CTE (the rows just updated): the version history remembers when an update first became
 * known for each site's installed version. Only rows that changed can have gained update_available_since.
 */
const STAMP_UPDATE_KNOWN_AT = `stamped AS (
         UPDATE module_versions mv SET update_known_at = c.update_available_since
           FROM changed c
          WHERE c.update_available_since IS NOT NULL AND mv.update_known_at IS NULL
            AND mv.module_id = c.module_id AND mv.site_id = c.site_id AND mv.version = c.installed_version
       )`;

/**
 * The SQL behind module statuses. Every statement covers the whole scope (300k rows for 150 projects across
 * 2,000 sites), writes only rows whose status actually changes, and stamps their version history in the same
 * statement.
 */
@Injectable()
export class ModuleStatusRepository {
  /** The distinct installed versions, in scope, of modules whose project has an imported release history. */
  distinctVersionsWithHistory(scope: StatusScope, manager: EntityManager): Promise<InstalledVersionWithStamp[]> {
    const { sql, parameter } = scopeFilter(scope);
    return manager.query<InstalledVersionWithStamp[]>(
      `SELECT d.project, d.version, ${IMPORT_STAMP_SQL} AS import_stamp
         FROM (SELECT DISTINCT m.project, sm.installed_version AS version
                 FROM site_modules sm JOIN modules m ON m.id = sm.module_id
                WHERE ${sql} AND sm.removed_at IS NULL) d
         JOIN release_projects p ON p.name = d.project`,
      [parameter],
    );
  }

  /** Writes the evaluator's verdicts; returns how many rows changed. */
  async applyVerdicts(scope: StatusScope, verdicts: readonly VersionVerdict[], manager: EntityManager): Promise<number> {
    if (verdicts.length === 0) return 0;
    const { sql, parameter } = scopeFilter(scope);
    // A lookup object rather than a join: the planner cannot size an unnest and would loop over it per module.
    const lookup: Record<string, [string, string | null, string]> = {};
    for (const verdict of verdicts) {
      lookup[`${verdict.project} ${verdict.version}`] = [verdict.status, verdict.recommendedVersion, verdict.reason];
    }
    const v = `($2::jsonb -> (m.project || ' ' || sm.installed_version))`;
    const rows = await manager.query<Array<{ changed: string }>>(
      `WITH changed AS (
         UPDATE site_modules sm SET
           update_status = ${v} ->> 0,
           recommended_version = ${v} ->> 1,
           status_source = 'release_history',
           status_reason = ${v} ->> 2,
           update_available_since = CASE WHEN ${v} ->> 0 IN ${NEEDS_UPDATE} THEN COALESCE(sm.update_available_since, now()) END
           FROM modules m
          WHERE sm.module_id = m.id AND ${sql} AND sm.removed_at IS NULL AND ${v} IS NOT NULL
            AND (sm.update_status, sm.recommended_version, sm.status_source, sm.status_reason,
                 sm.update_available_since IS NULL)
                IS DISTINCT FROM (${v} ->> 0, ${v} ->> 1, 'release_history'::text, ${v} ->> 2,
                                  ${v} ->> 0 NOT IN ${NEEDS_UPDATE})
          RETURNING sm.site_id, sm.module_id, sm.installed_version, sm.update_available_since
       ),
       ${STAMP_UPDATE_KNOWN_AT}
       SELECT count(*) AS changed FROM changed`,
      [parameter, JSON.stringify(lookup)],
    );
    return Number(rows[0]?.changed ?? 0);
  }

  /**
   * Where no release history is known, the site's own update check is all there is: its security flag, its
   * update flag, or its latest version equal to the installed one. Returns how many rows changed.
   */
  async applyReportedFlags(scope: StatusScope, manager: EntityManager): Promise<number> {
    const { sql, parameter } = scopeFilter(scope);
    const rows = await manager.query<Array<{ changed: string }>>(
      `WITH flagged AS (
         SELECT sm.site_id, sm.module_id,
                CASE WHEN sm.reported_security_update THEN 'security_update'
                     WHEN sm.reported_update_available THEN 'update_available'
                     WHEN sm.reported_latest_version = sm.installed_version THEN 'current'
                     WHEN sm.reported_update_available = false AND sm.reported_security_update IS NOT TRUE THEN 'current'
                     ELSE 'unknown' END AS status,
                CASE WHEN sm.reported_security_update IS NULL AND sm.reported_update_available IS NULL
                       AND sm.reported_latest_version IS NULL THEN 'none' ELSE 'site_report' END AS source
           FROM site_modules sm JOIN modules m ON m.id = sm.module_id
          WHERE ${sql} AND sm.removed_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM release_projects p WHERE p.name = m.project)
       ),
       computed AS (
         SELECT flagged.*,
                CASE source WHEN 'none' THEN 'No release history is known and the site reported no update status'
                            ELSE 'Reported by the site (no release history is known)' END AS reason
           FROM flagged
       ),
       changed AS (
         UPDATE site_modules sm SET
           update_status = c.status,
           status_source = c.source,
           status_reason = c.reason,
           recommended_version = sm.reported_latest_version,
           update_available_since = CASE WHEN c.status IN ${NEEDS_UPDATE} THEN COALESCE(sm.update_available_since, now()) END
           FROM computed c
          WHERE sm.site_id = c.site_id AND sm.module_id = c.module_id
            AND (sm.update_status, sm.status_source, sm.status_reason, sm.recommended_version,
                 sm.update_available_since IS NULL)
                IS DISTINCT FROM (c.status, c.source, c.reason, sm.reported_latest_version,
                                  c.status NOT IN ${NEEDS_UPDATE})
          RETURNING sm.site_id, sm.module_id, sm.installed_version, sm.update_available_since
       ),
       ${STAMP_UPDATE_KNOWN_AT}
       SELECT count(*) AS changed FROM changed`,
      [parameter],
    );
    return Number(rows[0]?.changed ?? 0);
  }
}
