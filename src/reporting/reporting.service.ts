import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { Errors } from '../common/errors/errors.js';
import { Page } from '../common/pagination/pagination.js';
import { SiteAccess } from '../sites/site-access.service.js';
import { epochMicroseconds, periodEnd, periodStart } from '../sites/patch-runs/dto/patch-run.dto.js';
import { toCsv, type CsvColumn, type CsvDocument } from './csv.js';
import { NEEDS_UPDATE_STATUSES, type ModuleUpdateDto, type NeedsUpdateStatus } from './dto/module-updates-report.dto.js';
import type {
  PatchRunReportDto,
  PatchRunSiteStatsDto,
  PatchRunStatsDto,
  PatchRunWeekDto,
} from './dto/patch-run-report.dto.js';
import { ModuleUpdatesQueryDto, PatchRunReportQueryDto } from './dto/report-query.dto.js';
import {
  ReportingRepository,
  type ModuleUpdateLineRow,
  type ModuleUpdateRow,
  type PatchRunStatsRow,
  type ReportScope,
} from './reporting.repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_REPORT_DAYS = 90;
/** Two years and a leap day: enough for year-on-year, small enough to stay one quick statement. */
export const MAX_REPORT_DAYS = 731;

@Injectable()
export class ReportingService {
  constructor(
    private readonly reportingRepository: ReportingRepository,
    private readonly siteAccess: SiteAccess,
  ) {}

  async moduleUpdates(principal: Principal, query: ModuleUpdatesQueryDto): Promise<Page<ModuleUpdateDto>> {
    const scope = await this.scope(principal, query.organization_id, query.site_id);
    const { rows, total } = await this.reportingRepository.moduleUpdates({
      ...scope,
      securityOnly: query.security_only ?? false,
      offset: query.offset,
      limit: query.per_page,
    });
    return new Page(toModuleUpdateDtos(rows), total, query);
  }

  /** Every matching module and site, one line per site needing a module's update, in the report's order. */
  async moduleUpdatesCsv(principal: Principal, query: ModuleUpdatesQueryDto): Promise<CsvDocument> {
    const scope = await this.scope(principal, query.organization_id, query.site_id);
    const lines = await this.reportingRepository.moduleUpdateLines({ ...scope, securityOnly: query.security_only ?? false });
    return {
      filename: `module-updates-${new Date().toISOString().slice(0, 10)}.csv`,
      content: toCsv(MODULE_UPDATE_COLUMNS, lines),
    };
  }

  async patchRuns(principal: Principal, query: PatchRunReportQueryDto): Promise<PatchRunReportDto> {
    const period = reportPeriod(query);
    const scope = await this.scope(principal, query.organization_id, query.site_id);
    const rows = await this.reportingRepository.patchRunStats(scope, period.from, period.to);
    const byWeek = new Map<string, PatchRunStatsRow>();
    const sites: PatchRunSiteStatsDto[] = [];
    let overall: PatchRunStatsDto = emptyStats();
    for (const row of rows) {
      switch (row.grouping) {
        case 'overall':
          overall = toStats(row);
          break;
        case 'site':
          sites.push({
            site_id: row.site_id ?? '',
            site_name: row.site_name ?? '',
            site_url: row.site_url ?? '',
            organization_id: row.organization_id ?? '',
            ...toStats(row),
          });
          break;
        case 'week':
          if (row.week !== null) byWeek.set(row.week, row);
          break;
      }
    }
    const weekly: PatchRunWeekDto[] = weeksOf(period.from, period.to).map((week) => {
      const row = byWeek.get(week);
      return { week_start: week, ...(row ? toStats(row) : emptyStats()) };
    });
    return {
      period: { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() },
      overall,
      sites,
      weekly,
    };
  }

  /** The same figures as one table: an overall line, a line per site, a line per week. */
  async patchRunsCsv(principal: Principal, query: PatchRunReportQueryDto): Promise<CsvDocument> {
    const report = await this.patchRuns(principal, query);
    const base = { period_from: report.period.from, period_to: report.period.to };
    const lines: PatchRunCsvLine[] = [
      { ...base, row_type: 'overall', week_start: null, site: null, stats: report.overall },
      ...report.sites.map((site) => ({ ...base, row_type: 'site' as const, week_start: null, site, stats: site })),
      ...report.weekly.map((week) => ({ ...base, row_type: 'week' as const, week_start: week.week_start, site: null, stats: week })),
    ];
    return {
      filename: `patch-run-report-${report.period.from.slice(0, 10)}-to-${report.period.to.slice(0, 10)}.csv`,
      content: toCsv(PATCH_RUN_COLUMNS, lines),
    };
  }

  /**
   * The sites a report covers: the caller's reach narrowed by the filters. A filter naming an organization or
   * site out of reach is "not found", as everywhere else.
   */
  private async scope(principal: Principal, organizationId?: string, siteId?: string): Promise<ReportScope> {
    const reach = this.siteAccess.organizationScope(principal);
    if (organizationId !== undefined && reach !== null && organizationId !== reach) throw Errors.notFound('organization');
    if (siteId !== undefined) await this.siteAccess.findVisible(principal, siteId);
    return { organizationId: organizationId ?? reach, siteId: siteId ?? this.siteAccess.siteScope(principal) };
  }
}

function reportPeriod(query: PatchRunReportQueryDto): { from: string; to: string } {
  const to = query.to === undefined ? new Date().toISOString() : periodEnd(query.to);
  const from =
    query.from === undefined ? new Date(Date.parse(to) - DEFAULT_REPORT_DAYS * DAY_MS).toISOString() : periodStart(query.from);
  if (epochMicroseconds(to) < epochMicroseconds(from)) throw Errors.badReference('REPORT.PERIOD_REVERSED', 'to', 'to must not be before from');
  if (Date.parse(to) - Date.parse(from) > MAX_REPORT_DAYS * DAY_MS) {
    throw Errors.badReference('REPORT.PERIOD_TOO_LONG', 'from', `The period may span at most ${MAX_REPORT_DAYS} days`);
  }
  return { from, to };
}

/** The Mondays (UTC, `YYYY-MM-DD`) of every week from the one holding `from` to the one holding `to`. */
export function weeksOf(from: string, to: string): string[] {
  const monday = (instant: string): number => {
    const day = new Date(instant);
    const midnight = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
    return midnight - ((day.getUTCDay() + 6) % 7) * DAY_MS;
  };
  const weeks: string[] = [];
  for (let week = monday(from); week <= monday(to); week += 7 * DAY_MS) {
    weeks.push(new Date(week).toISOString().slice(0, 10));
  }
  return weeks;
}

const worstStatus = (rank: number): NeedsUpdateStatus => NEEDS_UPDATE_STATUSES[rank - 1] ?? 'update_available';

function toModuleUpdateDtos(rows: readonly ModuleUpdateRow[]): ModuleUpdateDto[] {
  return rows.map((row) => ({
    module_id: row.module_id,
    name: row.name,
    project: row.project,
    security: row.worst_rank === 1,
    worst_status: worstStatus(row.worst_rank),
    sites_affected: Number(row.sites_affected),
    sites: row.sites,
  }));
}

function emptyStats(): PatchRunStatsDto {
  return {
    runs: 0,
    succeeded: 0,
    failed: 0,
    partial: 0,
    success_rate: null,
    modules_updated: 0,
    lag_samples: 0,
    lag_median_seconds: null,
    lag_p90_seconds: null,
    lag_median_hours: null,
    lag_p90_hours: null,
  };
}

const round = (value: number, decimals: number): number => Number(value.toFixed(decimals));
const seconds = (value: number | null): number | null => (value === null ? null : Math.round(value));
const hours = (value: number | null): number | null => (value === null ? null : round(value / 3600, 2));

function toStats(row: PatchRunStatsRow): PatchRunStatsDto {
  const runs = Number(row.runs);
  const succeeded = Number(row.succeeded);
  return {
    runs,
    succeeded,
    failed: Number(row.failed),
    partial: Number(row.partial),
    success_rate: runs === 0 ? null : round(succeeded / runs, 4),
    modules_updated: Number(row.modules_updated),
    lag_samples: Number(row.lag_samples ?? 0),
    lag_median_seconds: seconds(row.lag_median_seconds),
    lag_p90_seconds: seconds(row.lag_p90_seconds),
    lag_median_hours: hours(row.lag_median_seconds),
    lag_p90_hours: hours(row.lag_p90_seconds),
  };
}

const MODULE_UPDATE_COLUMNS: ReadonlyArray<CsvColumn<ModuleUpdateLineRow>> = [
  { header: 'module_id', value: (line) => line.module_id },
  { header: 'module', value: (line) => line.name },
  { header: 'project', value: (line) => line.project },
  { header: 'security', value: (line) => line.worst_rank === 1 },
  { header: 'worst_status', value: (line) => worstStatus(line.worst_rank) },
  { header: 'sites_affected', value: (line) => Number(line.sites_affected) },
  { header: 'site_id', value: (line) => line.site_id },
  { header: 'site_name', value: (line) => line.site_name },
  { header: 'site_url', value: (line) => line.site_url },
  { header: 'organization_id', value: (line) => line.organization_id },
  { header: 'installed_version', value: (line) => line.installed_version },
  { header: 'recommended_version', value: (line) => line.recommended_version },
  { header: 'status', value: (line) => line.status },
  { header: 'update_available_since', value: (line) => line.update_available_since },
];

interface PatchRunCsvLine {
  readonly row_type: 'overall' | 'site' | 'week';
  readonly period_from: string;
  readonly period_to: string;
  readonly week_start: string | null;
  readonly site: PatchRunSiteStatsDto | null;
  readonly stats: PatchRunStatsDto;
}

const PATCH_RUN_COLUMNS: ReadonlyArray<CsvColumn<PatchRunCsvLine>> = [
  { header: 'row_type', value: (line) => line.row_type },
  { header: 'period_from', value: (line) => line.period_from },
  { header: 'period_to', value: (line) => line.period_to },
  { header: 'week_start', value: (line) => line.week_start },
  { header: 'site_id', value: (line) => line.site?.site_id ?? null },
  { header: 'site_name', value: (line) => line.site?.site_name ?? null },
  { header: 'site_url', value: (line) => line.site?.site_url ?? null },
  { header: 'organization_id', value: (line) => line.site?.organization_id ?? null },
  { header: 'runs', value: (line) => line.stats.runs },
  { header: 'succeeded', value: (line) => line.stats.succeeded },
  { header: 'failed', value: (line) => line.stats.failed },
  { header: 'partial', value: (line) => line.stats.partial },
  { header: 'success_rate', value: (line) => line.stats.success_rate },
  { header: 'modules_updated', value: (line) => line.stats.modules_updated },
  { header: 'lag_samples', value: (line) => line.stats.lag_samples },
  { header: 'lag_median_seconds', value: (line) => line.stats.lag_median_seconds },
  { header: 'lag_p90_seconds', value: (line) => line.stats.lag_p90_seconds },
  { header: 'lag_median_hours', value: (line) => line.stats.lag_median_hours },
  { header: 'lag_p90_hours', value: (line) => line.stats.lag_p90_hours },
];
