import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { evaluateModuleStatus, type ProjectHistory } from './module-status.evaluator.js';
import { ModuleStatusRepository, type StatusScope, type VersionVerdict } from './module-status.repository.js';
import { ReleaseHistoryRepository } from './release-history.repository.js';

interface CachedHistory {
  readonly importStamp: string;
  readonly history: ProjectHistory;
}

/**
 * Keeps site_modules.update_status (and what goes with it) up to date. Modules whose project has a known
 * release history are evaluated by OpsDeck, once per distinct installed version; the rest take the site's
 * own flags. Every write is one statement over the whole scope.
 */
@Injectable()
export class ModuleStatusService {
  /** Histories by project, valid while their imported_at stamp is unchanged (so every instance stays right). */
  private readonly histories = new Map<string, CachedHistory>();

  constructor(
    private readonly moduleStatusRepository: ModuleStatusRepository,
    private readonly releaseHistoryRepository: ReleaseHistoryRepository,
  ) {}

  /** Recomputes update_status etc. of the live site_modules of these sites (after a module report), in the caller's transaction. */
  async refreshSites(siteIds: readonly string[], manager: EntityManager): Promise<void> {
    if (siteIds.length === 0) return;
    await this.refresh({ kind: 'sites', siteIds }, manager);
  }

  /** Recomputes every site's live site_modules of these catalog modules (after a report changed their project). */
  async refreshModules(moduleIds: readonly string[], manager: EntityManager): Promise<number> {
    if (moduleIds.length === 0) return 0;
    return this.refresh({ kind: 'modules', moduleIds }, manager);
  }

  /** Recomputes every live site_module whose module belongs to these projects (after a release-history import). Returns how many site_modules changed. */
  async refreshProjects(projects: readonly string[], manager: EntityManager): Promise<number> {
    if (projects.length === 0) return 0;
    return this.refresh({ kind: 'projects', projects }, manager);
  }

  private async refresh(scope: StatusScope, manager: EntityManager): Promise<number> {
    const installed = await this.moduleStatusRepository.distinctVersionsWithHistory(scope, manager);
    const stamps = new Map(installed.map((row) => [row.project, row.import_stamp]));
    const histories = await this.historiesOf(stamps, manager);
    const verdicts = installed.flatMap((row): VersionVerdict[] => {
      const history = histories.get(row.project);
      if (!history) return [];
      return [{ project: row.project, version: row.version, ...evaluateModuleStatus(history, row.version) }];
    });
    const fromHistory = await this.moduleStatusRepository.applyVerdicts(scope, verdicts, manager);
    const fromReports = await this.moduleStatusRepository.applyReportedFlags(scope, manager);
    return fromHistory + fromReports;
  }

  /** Loads only the histories imported since they were cached (stamps: project → imported_at). */
  private async historiesOf(stamps: ReadonlyMap<string, string>, manager: EntityManager): Promise<Map<string, ProjectHistory>> {
    const found = new Map<string, ProjectHistory>();
    const stale: string[] = [];
    for (const [project, importStamp] of stamps) {
      const cached = this.histories.get(project);
      if (cached && cached.importStamp === importStamp) found.set(project, cached.history);
      else stale.push(project);
    }
    for (const loaded of await this.releaseHistoryRepository.loadHistories(stale, manager)) {
      const history: ProjectHistory = {
        name: loaded.name,
        projectStatus: loaded.projectStatus,
        supportedBranches: loaded.supportedBranches,
        releases: loaded.releases,
      };
      this.histories.set(loaded.name, { importStamp: loaded.importStamp, history });
      found.set(loaded.name, history);
    }
    return found;
  }
}
