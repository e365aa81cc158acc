import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../common/errors/app-error.js';
import { Errors } from '../../common/errors/errors.js';
import { InjectLogger } from '../../common/logging/logging.module.js';
import { Page, type PaginationQueryDto } from '../../common/pagination/pagination.js';
import { ModuleStatusService } from '../release-history/module-status.service.js';
import { SiteAccess } from '../site-access.service.js';
import { MAX_MODULES_PER_REPORT, ModuleReportDto, ModuleReportResultDto } from './dto/module-report.dto.js';
import { ModuleVersionDto, SiteModuleDto, SiteModuleQueryDto } from './dto/site-module.dto.js';
import { SiteModulesRepository, type ReportedModule, type SiteModuleRow } from './site-modules.repository.js';

@Injectable()
export class SiteModulesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly siteModulesRepository: SiteModulesRepository,
    private readonly siteAccess: SiteAccess,
    private readonly moduleStatusService: ModuleStatusService,
    private readonly auditService: AuditService,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  /**
   * Applies a site's module report in one transaction: catalog, current modules, version history, statuses.
   * Reports for one site apply one after another (the site row is locked); the same report twice changes
   * nothing but the timestamps. A report that moves a module to another project (the catalog is shared) leaves
   * that module's statuses on other sites stale; they are recomputed once the report is in.
   */
  async ingestReport(principal: Principal, siteId: string, dto: ModuleReportDto): Promise<ModuleReportResultDto> {
    const { result, reprojectedModuleIds } = await this.applyReport(principal, siteId, dto);
    await this.refreshOtherSites(reprojectedModuleIds);
    return result;
  }

  private applyReport(
    principal: Principal,
    siteId: string,
    dto: ModuleReportDto,
  ): Promise<{ result: ModuleReportResultDto; reprojectedModuleIds: readonly string[] }> {
    const modules = toReportedModules(dto);
    return this.dataSource.transaction(async (manager) => {
      await this.siteAccess.lockVisible(principal, siteId, manager);
      const counts = await this.siteModulesRepository.applyReport(
        { siteId, drupalVersion: dto.drupal_version, phpVersion: dto.php_version ?? null, modules },
        manager,
      );
      await this.moduleStatusService.refreshSites([siteId], manager);
      const statuses = await this.siteModulesRepository.countByStatus(siteId, manager);
      const summary = { modules: modules.length, added: counts.added, version_changed: counts.versionChanged, removed: counts.removed };
      await this.auditService.record(
        {
          action: 'module_report.create',
          resourceType: 'site',
          resourceId: siteId,
          changes: { drupal_version: dto.drupal_version, ...summary },
        },
        manager,
      );
      const result = { site_id: siteId, received_at: counts.receivedAt.toISOString(), ...summary, statuses };
      return { result, reprojectedModuleIds: counts.reprojectedModuleIds };
    });
  }

  /**
   * In its own transaction, after the report's: inside it, these rows of other sites would be locked after the
   * report's own rows, the reverse of those sites' concurrent reports, and the two could deadlock. The report
   * stands if this fails; each site's next report, or the project's next history import, recomputes them.
   */
  private async refreshOtherSites(moduleIds: readonly string[]): Promise<void> {
    if (moduleIds.length === 0) return;
    try {
      await this.dataSource.transaction((manager) => this.moduleStatusService.refreshModules(moduleIds, manager));
    } catch (error) {
      this.logger.warn({ err: error, modules: moduleIds.length }, 'module statuses: recomputing after a project change failed');
    }
  }

  async listCurrent(principal: Principal, siteId: string, query: SiteModuleQueryDto): Promise<Page<SiteModuleDto>> {
    await this.siteAccess.findVisible(principal, siteId);
    const { rows, total } = await this.siteModulesRepository.listCurrent(siteId, query.status, query.offset, query.per_page);
    return new Page(rows.map(toSiteModuleDto), total, query);
  }

  /** A module's versions on the sites in reach; a module none of them runs is "not found" to non-admins. */
  async listVersions(principal: Principal, moduleId: string, query: PaginationQueryDto): Promise<Page<ModuleVersionDto>> {
    const [module] = await this.siteModulesRepository.findModule(moduleId);
    if (!module) throw Errors.notFound('module');
    const scope = this.siteAccess.organizationScope(principal);
    const { rows, total } = await this.siteModulesRepository.listVersions(moduleId, scope, query.offset, query.per_page);
    if (total === 0 && scope !== null) throw Errors.notFound('module');
    return new Page(
      rows.map((row) => ({
        module_id: module.id,
        module_name: module.name,
        version: row.version,
        first_seen_at: row.first_seen_at.toISOString(),
        last_seen_at: row.last_seen_at.toISOString(),
        site_count: Number(row.site_count),
        sites: row.sites.map((site) => ({
          site_id: site.site_id,
          site_name: site.site_name,
          site_url: site.site_url,
          first_seen_at: new Date(site.first_seen_at).toISOString(),
          last_seen_at: new Date(site.last_seen_at).toISOString(),
          current: site.current,
        })),
      })),
      total,
      query,
    );
  }
}

/** Refuses oversized reports and duplicate names (which would make the set-based upsert ambiguous). */
function toReportedModules(dto: ModuleReportDto): ReportedModule[] {
  if (dto.modules.length > MAX_MODULES_PER_REPORT) {
    throw new AppError(
      HttpStatus.PAYLOAD_TOO_LARGE,
      'MODULE_REPORT.TOO_MANY_MODULES',
      `A report may list at most ${MAX_MODULES_PER_REPORT} modules; this one lists ${dto.modules.length}`,
    );
  }
  const firstIndex = new Map<string, number>();
  const duplicates = dto.modules.flatMap((module, index) => {
    const first = firstIndex.get(module.name);
    if (first === undefined) {
      firstIndex.set(module.name, index);
      return [];
    }
    return [{ field: `modules.${index}.name`, messages: [`${module.name} is already listed at modules.${first}`] }];
  });
  if (duplicates.length > 0) {
    throw new AppError(HttpStatus.BAD_REQUEST, 'MODULE_REPORT.DUPLICATE_MODULE', 'A module is listed more than once', duplicates);
  }
  return dto.modules.map((module) => ({
    name: module.name,
    project: module.project ?? null,
    version: module.version,
    type: module.type ?? null,
    status: module.status ?? 'enabled',
    latest_version: module.latest_version ?? null,
    update_available: module.update_available ?? null,
    security_update: module.security_update ?? null,
  }));
}

function toSiteModuleDto(row: SiteModuleRow): SiteModuleDto {
  return {
    module_id: row.module_id,
    name: row.name,
    project: row.project,
    type: row.type,
    status: row.status,
    installed_version: row.installed_version,
    recommended_version: row.recommended_version,
    update_status: row.update_status,
    status_source: row.status_source,
    status_reason: row.status_reason,
    update_available_since: row.update_available_since ? row.update_available_since.toISOString() : null,
    first_seen_at: row.first_seen_at.toISOString(),
    last_seen_at: row.last_seen_at.toISOString(),
  };
}
