import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { Errors } from '../../common/errors/errors.js';
import { Page } from '../../common/pagination/pagination.js';
import { isDevVersion, isPreRelease } from '../drupal-version.js';
import { ProjectReleasesQueryDto, ReleaseDto, ReleaseHistoryImportDto } from './dto/release-history.dto.js';
import type { ReleaseEntity } from './entities/release.entity.js';
import { ModuleStatusService } from './module-status.service.js';
import { parseReleaseHistoryDocument, type ReleaseHistory, type ReleaseStatus } from './release-history.parser.js';
import { ReleaseHistoryRepository } from './release-history.repository.js';

export const AUDIT_ACTION = 'release_history.import';
export const AUDIT_RESOURCE = 'release_history';

@Injectable()
export class ReleaseHistoryService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly releaseHistoryRepository: ReleaseHistoryRepository,
    private readonly moduleStatusService: ModuleStatusService,
    private readonly auditService: AuditService,
  ) {}

  /** The HTTP import: one summary for a `<project>` document, a list for a `<projects>` one. */
  async importRequest(xml: unknown): Promise<ReleaseHistoryImportDto | ReleaseHistoryImportDto[]> {
    const document = parseReleaseHistoryDocument(xml);
    const summaries = await this.importHistories(document.histories);
    const [single] = summaries;
    if (document.wrapped || !single) return summaries;
    return single;
  }

  /** Imports every project of a document (the CLI's entry); refuses the whole document if any part is bad. */
  async importDocument(xml: unknown, options: { asSystem?: boolean } = {}): Promise<ReleaseHistoryImportDto[]> {
    return this.importHistories(parseReleaseHistoryDocument(xml).histories, options);
  }

  /**
   * In one transaction: each project upserted and its releases replaced, then its sites' module statuses
   * recomputed. Projects go in name order so concurrent imports lock them in the same order.
   */
  private importHistories(
    histories: readonly ReleaseHistory[],
    options: { asSystem?: boolean } = {},
  ): Promise<ReleaseHistoryImportDto[]> {
    const ordered = [...histories].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.dataSource.transaction(async (manager) => {
      const summaries = new Map<string, ReleaseHistoryImportDto>();
      for (const history of ordered) {
        summaries.set(history.name, await this.importOne(history, manager, options.asSystem ?? false));
      }
      return histories.flatMap((history) => summaries.get(history.name) ?? []);
    });
  }

  private async importOne(history: ReleaseHistory, manager: EntityManager, asSystem: boolean): Promise<ReleaseHistoryImportDto> {
    await this.releaseHistoryRepository.upsertProject(history, manager);
    const releases = await this.releaseHistoryRepository.replaceReleases(history, manager);
    const reevaluated = await this.moduleStatusService.refreshProjects([history.name], manager);
    const summary: ReleaseHistoryImportDto = {
      project: history.name,
      title: history.title,
      project_status: history.projectStatus,
      releases,
      supported_branches: [...history.supportedBranches],
      sites_reevaluated: reevaluated,
    };
    await this.auditService.record(
      {
        action: AUDIT_ACTION,
        resourceType: AUDIT_RESOURCE,
        resourceId: history.name,
        changes: { project_status: summary.project_status, releases, supported_branches: summary.supported_branches, sites_reevaluated: reevaluated },
        ...(asSystem ? { actor: { type: 'system' as const, id: null, label: 'import-release-history' } } : {}),
      },
      manager,
    );
    return summary;
  }

  async listReleases(name: string, query: ProjectReleasesQueryDto): Promise<Page<ReleaseDto>> {
    const project = await this.releaseHistoryRepository.findProject(name);
    if (!project) throw Errors.notFound('project');
    const { rows, total } = await this.releaseHistoryRepository.listReleases(name, query.offset, query.per_page);
    return new Page(rows.map(toReleaseDto), total, query);
  }
}

export function toReleaseDto(release: ReleaseEntity): ReleaseDto {
  return {
    project: release.project,
    version: release.version,
    status: release.status as ReleaseStatus,
    released_at: release.releasedAt ? release.releasedAt.toISOString() : null,
    release_types: release.releaseTypes,
    security_covered: release.securityCovered,
    is_dev: isDevVersion(release.version),
    is_pre_release: isPreRelease(release.version),
  };
}
