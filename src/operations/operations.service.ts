import { EventEmitter, once } from 'node:events';
import { hostname } from 'node:os';
import {
  HttpStatus,

  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { seesAllOrganizations, type Principal } from '../auth/principal.js';
import { AppError } from '../common/errors/app-error.js';
import { Errors } from '../common/errors/errors.js';
import { InjectLogger } from '../common/logging/logging.module.js';
import { Page } from '../common/pagination/pagination.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { EventBus } from '../events/event-bus.js';
import { operationRooms } from '../events/rooms.js';
import { OperationDto, OperationQueryDto } from './dto/operation.dto.js';
import {
  UNFINISHED_STATUSES,
  type OperationEntity,
  type OperationProgress,
} from './entities/operation.entity.js';
import { INTERRUPTED, toOperationError } from './operation-errors.js';
import { OperationsRepository } from './operations.repository.js';

export interface OperationContext {
  readonly operationId: string;
  /** Aborted when the service shuts down; long runs stop at their next step. */
  readonly signal: AbortSignal;
  /** Records the latest step (stored, and published to the `operations` room). */
  progress(progress: OperationProgress): void;
}

export interface OperationSpec<R> {
  /** `container.create`, `idrac.deploy`, ... */
  readonly type: string;
  readonly resource: { readonly type: string; readonly id: string };
  /** Held while pending or running: a second operation with the same key is refused with 409. */
  readonly lockKey?: string;
  /** What was asked, for the record and the audit row; never secrets. */
  readonly input?: Record<string, unknown>;
  /** The audit action recorded when the operation is accepted (`container.create`); defaults to the type. */
  readonly auditAction?: string;
  /**
   * Runs once the operation is stored and before it is queued (records that reference the operation); when it
   * throws, the operation is stored as failed and the error answers the request.
   */
  readonly prepare?: (operationId: string) => Promise<void>;
  readonly run: (context: OperationContext) => Promise<R>;
}

/** How often a waiter re-reads an operation another instance runs. */
const WAIT_POLL_MS = 1_000;
/** How long shutdown lets running operations settle before marking them interrupted. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Long-running work: stored in the database, run in this process with bounded concurrency, observable through
 * GET /operations and the `operation_update` event, interrupted (not left running) when the process stops.
 */
@Injectable()
export class OperationsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly instance: string;
  private readonly queue: LimitFunction;
  private readonly maxWaitSeconds: number;
  private readonly running = new Map<string, { readonly abort: AbortController; readonly done: Promise<void> }>();
  private readonly finished = new EventEmitter();
  private readonly shutdown = new AbortController();
  /** Set once shutdown has marked what still ran as interrupted; later outcomes are not recorded. */
  private interruptedAtShutdown = false;

  constructor(
    @InjectConfig() config: AppConfig,
    @InjectLogger() private readonly logger: Logger,
    private readonly operationsRepository: OperationsRepository,
    private readonly eventBus: EventBus,
    private readonly auditService: AuditService,
  ) {
    this.instance = config.operations.instance_name ?? hostname();
    this.queue = pLimit(config.operations.max_running);
    this.maxWaitSeconds = config.operations.max_wait_seconds;
    this.finished.setMaxListeners(0);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.operationsRepository.connected) return;
    const interrupted = await this.operationsRepository.interruptUnfinished(this.instance, INTERRUPTED);
    if (interrupted.length > 0) {
      this.logger.warn({ operations: interrupted, instance: this.instance }, 'operations left unfinished by an earlier run were interrupted');
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shutdown.abort();
    this.queue.clearQueue();
    for (const { abort } of this.running.values()) abort.abort();
    const settled = Promise.allSettled([...this.running.values()].map((run) => run.done));
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref())]);
    if (!this.operationsRepository.connected) return;
    const interrupted = await this.operationsRepository
      .interruptUnfinished(this.instance, INTERRUPTED)
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'could not mark unfinished operations interrupted at shutdown');
        return [];
      });
    this.interruptedAtShutdown = true;
    for (const id of interrupted) this.finished.emit(id);
  }

  /** Stores the operation as pending and queues its run; 409 when its resource is busy. */
  async submit<R>(principal: Principal, spec: OperationSpec<R>): Promise<OperationDto> {
    if (this.shutdown.signal.aborted) {
      throw new AppError(HttpStatus.SERVICE_UNAVAILABLE, 'SERVICE_UNAVAILABLE', 'The service is shutting down');
    }
    const operation = await this.operationsRepository.insertUnlessLocked({
      type: spec.type,
      resourceType: spec.resource.type,
      resourceId: spec.resource.id,
      lockKey: spec.lockKey ?? null,
      input: spec.input ?? {},
      instance: this.instance,
      requestedByKind: principal.kind,
      requestedById: principal.id,
      requestedByLabel: principal.label,
      organizationId: principal.organizationId,
    });
    if (!operation) throw await this.busy(spec);
    await this.auditService.record({
      action: spec.auditAction ?? spec.type,
      resourceType: spec.resource.type,
      resourceId: spec.resource.id,
      statusCode: HttpStatus.ACCEPTED,
      changes: { operation_id: operation.id, ...spec.input },
    });
    if (spec.prepare) {
      try {
        await spec.prepare(operation.id);
      } catch (error) {
        await this.operationsRepository.finish(operation.id, 'failed', { error: toOperationError(error) });
        throw error;
      }
    }
    this.publish(operation);
    void this.queue(() => this.execute(operation, spec));
    return this.toDto(operation, principal);
  }

  async list(principal: Principal, query: OperationQueryDto): Promise<Page<OperationDto>> {
    const { rows, total } = await this.operationsRepository.search({
      type: query.type,
      status: query.status,
      resourceType: query.resource_type,
      resourceId: query.resource_id,
      offset: query.offset,
      limit: query.per_page,
    });
    return new Page(
      rows.map((row) => this.toDto(row, principal)),
      total,
      query,
    );
  }

  async get(principal: Principal, id: string): Promise<OperationDto> {
    return this.toDto(await this.find(id), principal);
  }

  /** The pending or running operation holding a lock key, if any. */
  async activeOperation(lockKey: string): Promise<{ readonly id: string; readonly type: string } | null> {
    const holder = await this.operationsRepository.findActiveByLockKey(lockKey);
    return holder ? { id: holder.id, type: holder.type } : null;
  }

  /** Answers when the operation has ended or after `timeoutSeconds` (capped), whichever comes first. */
  async wait(principal: Principal, id: string, timeoutSeconds: number): Promise<OperationDto> {
    let operation = await this.find(id);
    const deadline = Date.now() + Math.min(timeoutSeconds, this.maxWaitSeconds) * 1_000;
    while (UNFINISHED_STATUSES.includes(operation.status) && Date.now() < deadline) {
      const signal = AbortSignal.any([
        AbortSignal.timeout(Math.min(WAIT_POLL_MS, deadline - Date.now())),
        this.shutdown.signal,
      ]);
      // Ended here: the local event wakes the waiter at once; ended by another instance: the next poll sees it.
      await once(this.finished, id, { signal }).catch(() => undefined);
      operation = await this.find(id);
      if (this.shutdown.signal.aborted) break;
    }
    return this.toDto(operation, principal);
  }

  /** Cancels an operation that has not started; one that runs or has ended answers 409. */
  async cancel(principal: Principal, id: string): Promise<OperationDto> {
    const operation = await this.find(id);
    const cancelled =
      operation.status === 'pending' &&
      (await this.operationsRepository.finish(id, 'cancelled', { error: null }, ['pending']));
    if (!cancelled) {
      const current = await this.find(id);
      throw new AppError(
        HttpStatus.CONFLICT,
        'OPERATION.NOT_CANCELLABLE',
        `Only a pending operation can be cancelled; this one is ${current.status}`,
        [{ field: 'status', messages: [`is ${current.status}`] }],
      );
    }
    await this.auditService.record({
      action: 'operation.cancel',
      resourceType: 'operation',
      resourceId: id,
      changes: { type: operation.type, resource_id: operation.resourceId },
    });
    const ended = await this.find(id);
    this.publish(ended);
    this.finished.emit(id);
    return this.toDto(ended, principal);
  }

  private async execute<R>(operation: OperationEntity, spec: OperationSpec<R>): Promise<void> {
    if (this.shutdown.signal.aborted || !(await this.operationsRepository.markRunning(operation.id))) return;
    const abort = new AbortController();
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    this.running.set(operation.id, { abort, done });
    const progress = this.progressWriter(operation.id);
    try {
      this.publish(await this.find(operation.id));
      const result = await spec.run({ operationId: operation.id, signal: abort.signal, progress: progress.write });
      if (this.interruptedAtShutdown) return;
      await progress.flush();
      await this.operationsRepository.finish(operation.id, 'succeeded', { result: result ?? null });
    } catch (error) {
      if (this.interruptedAtShutdown) {
        this.logger.info({ operation: operation.id }, 'an operation interrupted at shutdown ended afterwards');
        return;
      }
      await progress.flush();
      const stored = toOperationError(error);
      if (stored.code === 'INTERNAL_ERROR') this.logger.error({ err: error, operation: operation.id }, 'operation failed unexpectedly');
      await this.operationsRepository.finish(operation.id, 'failed', { error: stored }).catch((finishError: unknown) => {
        this.logger.error({ err: finishError, operation: operation.id }, 'could not record an operation failure');
      });
    } finally {
      this.running.delete(operation.id);
      resolveDone();
      if (!this.interruptedAtShutdown) {
        const ended = await this.operationsRepository.findById(operation.id).catch(() => null);
        if (ended) this.publish(ended);
        this.finished.emit(operation.id);
      }
    }
  }

  /** Stores progress without making the run wait on each write, keeping only the latest when writes queue. */
  private progressWriter(id: string): { write: (progress: OperationProgress) => void; flush: () => Promise<void> } {
    let latest: OperationProgress | null = null;
    let writing: Promise<void> = Promise.resolve();
    const drain = async (): Promise<void> => {
      while (latest !== null && !this.interruptedAtShutdown) {
        const next: OperationProgress = latest;
        latest = null;
        await this.operationsRepository.saveProgress(id, next).catch((error: unknown) => {
          this.logger.warn({ err: error, operation: id }, 'could not store operation progress');
        });
      }
    };
    return {
      write: (progress) => {
        const idle = latest === null;
        latest = progress;
        this.eventBus.publish({
          channel: 'operation_update',
          rooms: operationRooms(id),
          payload: {
            type: 'operation_progress',
            operation_id: id,
            status: 'running',
            message: typeof progress.message === 'string' ? progress.message : null,
            error: null,
            progress,
            timestamp: new Date().toISOString(),
          },
        });
        if (idle) writing = writing.then(drain);
      },
      flush: () => writing.then(drain),
    };
  }

  private publish(operation: OperationEntity): void {
    this.eventBus.publish({
      channel: 'operation_update',
      rooms: operationRooms(operation.id),
      payload: {
        type: `operation_${operation.status}`,
        operation_id: operation.id,
        operation_type: operation.type,
        resource: { type: operation.resourceType, id: operation.resourceId },
        status: operation.status,
        message: null,
        error: operation.error,
        timestamp: new Date().toISOString(),
      },
    });
  }

  private async find(id: string): Promise<OperationEntity> {
    const operation = await this.operationsRepository.findById(id);
    if (!operation) throw Errors.notFound('operation');
    return operation;
  }

  private async busy(spec: OperationSpec<unknown>): Promise<AppError> {
    const holder = spec.lockKey ? await this.operationsRepository.findActiveByLockKey(spec.lockKey) : null;
    return new AppError(
      HttpStatus.CONFLICT,
      'OPERATION.RESOURCE_BUSY',
      `${spec.resource.type} ${spec.resource.id} has an operation under way`,
      { operation_id: holder?.id ?? null, operation_type: holder?.type ?? null },
    );
  }

  private toDto(operation: OperationEntity, viewer: Principal): OperationDto {
    const sameOrganization =
      seesAllOrganizations(viewer) ||
      (operation.organizationId !== null && operation.organizationId === viewer.organizationId);
    return {
      id: operation.id,
      type: operation.type,
      status: operation.status,
      resource: { type: operation.resourceType, id: operation.resourceId },
      progress: operation.progress,
      result: operation.result ?? null,
      error: operation.error,
      may_cancel: operation.status === 'pending',
      requested_by: {
        kind: operation.requestedByKind,
        id: sameOrganization ? operation.requestedById : null,
        label: sameOrganization ? operation.requestedByLabel : null,
      },
      created_at: operation.createdAt.toISOString(),
      started_at: operation.startedAt?.toISOString() ?? null,
      finished_at: operation.finishedAt?.toISOString() ?? null,
    };
  }
}
