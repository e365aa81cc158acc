import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../common/errors/app-error.js';
import { Errors } from '../../common/errors/errors.js';
import { Page } from '../../common/pagination/pagination.js';
import { SiteAccess } from '../site-access.service.js';
import {
  CreatePatchRunDto,
  epochMicroseconds,
  PatchRunDto,
  PatchRunQueryDto,
  PatchRunUpdateDto,
  periodEnd,
  periodStart,
} from './dto/patch-run.dto.js';
import { PatchRunsRepository, type PatchRunRow, type PatchRunUpdateRow } from './patch-runs.repository.js';

/** Clocks drift: a run may claim to end this far ahead of the server's clock. */
export const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

@Injectable()
export class PatchRunsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly patchRunsRepository: PatchRunsRepository,
    private readonly siteAccess: SiteAccess,
    private readonly auditService: AuditService,
  ) {}

  async record(principal: Principal, siteId: string, dto: CreatePatchRunDto): Promise<PatchRunDto> {
    checkTimes(dto.started_at, dto.finished_at);
    checkUniqueModules(dto);
    return this.dataSource.transaction(async (manager) => {
      await this.siteAccess.findVisible(principal, siteId, manager);
      const id = await this.patchRunsRepository.insert(
        {
          siteId,
          startedAt: dto.started_at,
          finishedAt: dto.finished_at,
          status: dto.status,
          notes: dto.notes ?? null,
          reportedBy: principal.id,
          updates: dto.updates.map((update) => ({
            module: update.module,
            fromVersion: update.from_version,
            toVersion: update.to_version,
          })),
        },
        manager,
      );
      const run = await this.load(id, manager);
      await this.auditService.record(
        {
          action: 'patch_run.create',
          resourceType: 'patch_run',
          resourceId: id,
          statusCode: HttpStatus.CREATED,
          changes: {
            site_id: siteId,
            status: run.status,
            started_at: run.started_at,
            finished_at: run.finished_at,
            modules_updated: run.modules_updated,
          },
        },
        manager,
      );
      return run;
    });
  }

  async list(principal: Principal, siteId: string, query: PatchRunQueryDto): Promise<Page<PatchRunDto>> {
    const from = query.from === undefined ? undefined : periodStart(query.from);
    const to = query.to === undefined ? undefined : periodEnd(query.to);
    if (from !== undefined && to !== undefined && epochMicroseconds(to) < epochMicroseconds(from)) {
      throw Errors.badReference('PATCH_RUN.PERIOD_REVERSED', 'to', 'to must not be before from');
    }
    await this.siteAccess.findVisible(principal, siteId);
    const { rows, total } = await this.patchRunsRepository.search({
      siteId,
      from,
      to,
      status: query.status,
      offset: query.offset,
      limit: query.per_page,
    });
    const updates = await this.patchRunsRepository.findUpdates(rows.map((row) => row.id));
    return new Page(toPatchRunDtos(rows, updates), total, query);
  }

  private async load(id: string, manager: EntityManager): Promise<PatchRunDto> {
    const row = await this.patchRunsRepository.findById(id, manager);
    if (!row) throw Errors.notFound('patch_run');
    const [run] = toPatchRunDtos([row], await this.patchRunsRepository.findUpdates([id], manager));
    if (!run) throw Errors.notFound('patch_run');
    return run;
  }
}

function checkTimes(startedAt: string, finishedAt: string): void {
  if (epochMicroseconds(finishedAt) < epochMicroseconds(startedAt)) {
    throw Errors.badReference('PATCH_RUN.FINISHED_BEFORE_START', 'finished_at', 'finished_at must not be before started_at');
  }
  if (Date.parse(finishedAt) > Date.now() + FUTURE_TOLERANCE_MS) {
    throw Errors.badReference(
      'PATCH_RUN.FINISHED_IN_FUTURE',
      'finished_at',
      'finished_at must not be more than 5 minutes in the future',
    );
  }
}

/** A run changes a module once; a second entry for it names both positions. */
function checkUniqueModules(dto: CreatePatchRunDto): void {
  const firstIndex = new Map<string, number>();
  const duplicates: Array<{ field: string; messages: string[] }> = [];
  dto.updates.forEach((update, index) => {
    const first = firstIndex.get(update.module);
    if (first === undefined) {
      firstIndex.set(update.module, index);
    } else {
      duplicates.push({
        field: `updates.${index}.module`,
        messages: [`module ${update.module} is already listed at updates.${first}`],
      });
    }
  });
  if (duplicates.length > 0) {
    throw new AppError(HttpStatus.BAD_REQUEST, 'PATCH_RUN.DUPLICATE_MODULE', 'A module may appear only once in a patch run', duplicates);
  }
}

function toPatchRunDtos(rows: readonly PatchRunRow[], updates: readonly PatchRunUpdateRow[]): PatchRunDto[] {
  const byRun = new Map<string, PatchRunUpdateDto[]>();
  for (const update of updates) {
    const list = byRun.get(update.patch_run_id) ?? [];
    list.push({
      module: update.module,
      module_id: update.module_id,
      from_version: update.from_version,
      to_version: update.to_version,
      update_known_at: update.update_known_at ? update.update_known_at.toISOString() : null,
      lag_seconds: update.lag_seconds === null ? null : Math.round(update.lag_seconds),
    });
    byRun.set(update.patch_run_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    site_id: row.site_id,
    started_at: row.started_at.toISOString(),
    finished_at: row.finished_at.toISOString(),
    status: row.status,
    notes: row.notes,
    modules_updated: row.modules_updated,
    updates: byRun.get(row.id) ?? [],
    created_at: row.created_at.toISOString(),
  }));
}
