import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ModuleUpdateSiteDto } from './dto/module-updates-report.dto.js';

/** Which live sites a report covers: null means no restriction on that dimension. */
export interface ReportScope {
  readonly organizationId: string | null;
  readonly siteId: string | null;
}

export interface ModuleUpdatesSearch extends ReportScope {
  readonly securityOnly: boolean;
  readonly offset: number;
  readonly limit: number;
}

/** A module needing updates, with its sites (worst status first, then by name) as PostgreSQL built them. */
export interface ModuleUpdateRow {
  readonly module_id: string;
  readonly name: string;
  readonly project: string;
  readonly worst_rank: number;
  readonly sites_affected: string;
  readonly total: string;
  readonly sites: ModuleUpdateSiteDto[];
}

/** One site needing one module's update, with the module's figures: a line of the CSV export. */
export interface ModuleUpdateLineRow extends ModuleUpdateSiteDto {
  readonly module_id: string;
  readonly name: string;
  readonly project: string;
  readonly worst_rank: number;
  readonly sites_affected: string;
}

export type StatsGroup = 'overall' | 'site' | 'week';

export interface PatchRunStatsRow {
  readonly grouping: StatsGroup;
  readonly site_id: string | null;
  readonly site_name: string | null;
  readonly site_url: string | null;
  readonly organization_id: string | null;
  /** `YYYY-MM-DD`, the Monday (UTC) of the week. */
  readonly week: string | null;
  readonly runs: string;
  readonly succeeded: string;
  readonly failed: string;
  readonly partial: string;
  readonly modules_updated: string;
  readonly lag_samples: string | null;
  readonly lag_median_seconds: number | null;
  readonly lag_p90_seconds: number | null;
}

/** Ranks the statuses that need action, worst first; NEEDS_UPDATE_STATUSES lists them in the same order. */
const STATUS_RANK = `CASE sm.update_status WHEN 'security_update' THEN 1 WHEN 'revoked' THEN 2
  WHEN 'unsupported' THEN 3 ELSE 4 END`;
/** The predicate of the partial index site_modules_needing_update_idx, so the planner uses it. */
const NEEDS_UPDATE = `sm.removed_at IS NULL
  AND sm.update_status IN ('security_update', 'update_available', 'unsupported', 'revoked')`;

/**
 * Names a grouping-set row by the one key it has (a site id, a week, or '' for the total): a plain equality the
 * planner can hash, unlike IS NOT DISTINCT FROM over both columns.
 */
const GROUP_KEY = "coalesce(site_id::text, week, '')";

@Injectable()
export class ReportingRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One statement: the site modules needing an update in scope counted per module (an index-only scan of
   * site_modules_needing_update_idx), ranked (security first, then by sites affected, then by worst
   * status) and paged over modules; then each page module's sites, aggregated into JSON by PostgreSQL (far
   * cheaper for node-postgres to read than thousands of flat rows).
   */
  async moduleUpdates(search: ModuleUpdatesSearch): Promise<{ rows: ModuleUpdateRow[]; total: number }> {
    const parameters: unknown[] = [];
    const where = [NEEDS_UPDATE, ...scopeConditions(search, parameters, 's')];
    if (search.securityOnly) where.push("sm.update_status = 'security_update'");
    const filters = parameters.length;
    parameters.push(search.offset, search.limit);
    const rows = await this.dataSource.query<ModuleUpdateRow[]>(
      `WITH needing AS (
         SELECT sm.module_id, min(${STATUS_RANK}) AS worst_rank, count(*) AS sites_affected
           FROM site_modules sm
           JOIN sites s ON s.id = sm.site_id AND s.deleted_at IS NULL
          WHERE ${where.join(' AND ')}
          GROUP BY sm.module_id
       ), page AS (
         SELECT n.module_id, n.worst_rank, n.sites_affected, m.name, m.project, count(*) OVER () AS total,
                row_number() OVER (ORDER BY n.worst_rank = 1 DESC, n.sites_affected DESC, n.worst_rank, m.name) AS position
           FROM needing n JOIN modules m ON m.id = n.module_id
          ORDER BY position
         OFFSET $${filters + 1} LIMIT $${filters + 2}
       )
       SELECT p.module_id, p.name, p.project, p.worst_rank, p.sites_affected, p.total,
              (SELECT json_agg(json_build_object(
                        'site_id', s.id, 'site_name', s.name, 'site_url', s.url, 'organization_id', s.organization_id,
                        'installed_version', sm.installed_version, 'recommended_version', sm.recommended_version,
                        'status', sm.update_status,
                        'update_available_since', ${isoText('sm.update_available_since')})
                      ORDER BY ${STATUS_RANK}, lower(s.name), s.id)
                 FROM site_modules sm
                 JOIN sites s ON s.id = sm.site_id AND s.deleted_at IS NULL
                WHERE sm.module_id = p.module_id AND ${where.join(' AND ')}) AS sites
         FROM page p
        ORDER BY p.position`,
      parameters,
    );
    if (rows.length > 0) return { rows, total: Number(rows[0]?.total) };
    const counted = await this.dataSource.query<Array<{ count: string }>>(
      `SELECT count(DISTINCT sm.module_id) AS count
         FROM site_modules sm JOIN sites s ON s.id = sm.site_id AND s.deleted_at IS NULL
        WHERE ${where.join(' AND ')}`,
      parameters.slice(0, filters),
    );
    return { rows: [], total: Number(counted[0]?.count ?? 0) };
  }

  /**
   * The CSV export: every (module, site) line in the report's order, flat. One hash join and one sort over all
   * of them beat a JSON aggregate per module when every module is wanted.
   */
  moduleUpdateLines(search: Omit<ModuleUpdatesSearch, 'offset' | 'limit'>): Promise<ModuleUpdateLineRow[]> {
    const parameters: unknown[] = [];
    const where = [NEEDS_UPDATE, ...scopeConditions(search, parameters, 's')];
    if (search.securityOnly) where.push("sm.update_status = 'security_update'");
    return this.dataSource.query<ModuleUpdateLineRow[]>(
      `WITH needing AS (
         SELECT sm.module_id, min(${STATUS_RANK}) AS worst_rank, count(*) AS sites_affected
           FROM site_modules sm
           JOIN sites s ON s.id = sm.site_id AND s.deleted_at IS NULL
          WHERE ${where.join(' AND ')}
          GROUP BY sm.module_id
       ), ranked AS (
         SELECT n.module_id, n.worst_rank, n.sites_affected, m.name, m.project,
                row_number() OVER (ORDER BY n.worst_rank = 1 DESC, n.sites_affected DESC, n.worst_rank, m.name) AS position
           FROM needing n JOIN modules m ON m.id = n.module_id
       )
       SELECT r.module_id, r.name, r.project, r.worst_rank, r.sites_affected,
              s.id AS site_id, s.name AS site_name, s.url AS site_url, s.organization_id, sm.installed_version,
              sm.recommended_version, sm.update_status AS status,
              ${isoText('sm.update_available_since')} AS update_available_since
         FROM ranked r
         JOIN site_modules sm ON sm.module_id = r.module_id
         JOIN sites s ON s.id = sm.site_id AND s.deleted_at IS NULL
        WHERE ${where.join(' AND ')}
        ORDER BY r.position, ${STATUS_RANK}, lower(s.name), s.id`,
      parameters,
    );
  }

  /**
   * One statement: the runs that finished in the period on live sites in scope, counted overall, per site and
   * per week (grouping sets), and the lag of their updates (run end minus when the update was first known)
   * as percentile_cont medians and 90th percentiles over the same groups. Failed runs count as runs but
   * neither their updates nor their lags do: they applied nothing.
   */
  patchRunStats(scope: ReportScope, from: string, to: string): Promise<PatchRunStatsRow[]> {
    const parameters: unknown[] = [from, to];
    const where = ['p.finished_at >= $1::timestamptz', 'p.finished_at <= $2::timestamptz', 's.deleted_at IS NULL'];
    where.push(...scopeConditions(scope, parameters, 's'));
    return this.dataSource.query<PatchRunStatsRow[]>(
      `WITH runs AS MATERIALIZED (
         SELECT p.id, p.site_id, p.status, p.modules_updated, p.finished_at,
                date_trunc('week', p.finished_at AT TIME ZONE 'UTC')::date::text AS week
           FROM patch_runs p
           JOIN sites s ON s.id = p.site_id
          WHERE ${where.join(' AND ')}
       ), run_stats AS (
         SELECT GROUPING(site_id, week) AS grouping_set, site_id, week, ${GROUP_KEY} AS group_key,
                count(*) AS runs,
                count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
                count(*) FILTER (WHERE status = 'failed') AS failed,
                count(*) FILTER (WHERE status = 'partial') AS partial,
                coalesce(sum(modules_updated) FILTER (WHERE status <> 'failed'), 0) AS modules_updated
           FROM runs
          GROUP BY GROUPING SETS ((), (site_id), (week))
       ), lags AS (
         SELECT r.site_id, r.week, extract(epoch FROM r.finished_at - u.update_known_at)::float8 AS lag
           FROM runs r
           JOIN patch_run_updates u ON u.patch_run_id = r.id
          WHERE r.status <> 'failed' AND u.update_known_at IS NOT NULL
       ), lag_stats AS (
         SELECT ${GROUP_KEY} AS group_key,
                count(*) AS lag_samples,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS lag_median_seconds,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY lag) AS lag_p90_seconds
           FROM lags
          GROUP BY GROUPING SETS ((), (site_id), (week))
       )
       SELECT CASE rs.grouping_set WHEN 3 THEN 'overall' WHEN 1 THEN 'site' ELSE 'week' END AS grouping,
              rs.site_id, s.name AS site_name, s.url AS site_url, s.organization_id, rs.week,
              rs.runs, rs.succeeded, rs.failed, rs.partial, rs.modules_updated,
              ls.lag_samples, ls.lag_median_seconds, ls.lag_p90_seconds
         FROM run_stats rs
         LEFT JOIN lag_stats ls ON ls.group_key = rs.group_key
         LEFT JOIN sites s ON s.id = rs.site_id
        ORDER BY rs.grouping_set DESC, lower(s.name), rs.site_id, rs.week`,
      parameters,
    );
  }
}

/** A timestamptz as JavaScript's toISOString() writes it (UTC, milliseconds), or null. */
function isoText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

function scopeConditions(scope: ReportScope, parameters: unknown[], sites: string): string[] {
  const conditions: string[] = [];
  if (scope.organizationId !== null) {
    parameters.push(scope.organizationId);
    conditions.push(`${sites}.organization_id = $${parameters.length}`);
  }
  if (scope.siteId !== null) {
    parameters.push(scope.siteId);
    conditions.push(`${sites}.id = $${parameters.length}`);
  }
  return conditions;
}
