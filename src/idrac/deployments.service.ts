import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { HttpStatus, Injectable } from '@nestjs/common';
import pLimit from 'p-limit';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../common/errors/app-error.js';
import { Errors } from '../common/errors/errors.js';
import type { OperationDto } from '../operations/dto/operation.dto.js';
import { OperationsService, type OperationContext } from '../operations/operations.service.js';
import { CreateDeploymentDto, CreateRevocationDto, DeploymentDto, ServerSelectionDto } from './dto/deployment.dto.js';
import type { IdracKeyEntity } from './entities/idrac-key.entity.js';
import type { IdracServerEntity } from './entities/idrac-server.entity.js';
import { DeploymentsRepository, type DeploymentKind, type ServerResult } from './deployments.repository.js';
import { IdracEvents } from './idrac-events.js';
import { IdracKeysRepository } from './idrac-keys.repository.js';
import { IdracConnector } from './idrac-ssh.provider.js';
import { IdracServersRepository } from './idrac-servers.repository.js';
import { RacadmClient, RacadmError } from './racadm.js';
import { parsePublicKey } from './ssh-key-material.js';
import { WriteBatcher } from './write-batcher.js';
import { IdracSshError } from './ssh/idrac-ssh-error.js';

interface Run {
  readonly deploymentId: string;
  readonly kind: DeploymentKind;
  readonly key: IdracKeyEntity;
  readonly slot: number | 'auto';
  readonly servers: readonly IdracServerEntity[];
  readonly concurrency: number;
}

interface Tally {
  succeeded: number;
  skipped: number;
  failed: number;
}

/**
 * Key deployments and revocations across iDRACs: one operation per request, one SSH session per server, a
 * bound per request and the process-wide bound of IdracConnector, and a precise result per server. One
 * server's failure never stops the others.
 */
@Injectable()
export class DeploymentsService {
  constructor(
    private readonly deploymentsRepository: DeploymentsRepository,
    private readonly serversRepository: IdracServersRepository,
    private readonly keysRepository: IdracKeysRepository,
    private readonly connector: IdracConnector,
    private readonly operationsService: OperationsService,
    private readonly idracEvents: IdracEvents,
  ) {}

  deploy(principal: Principal, dto: CreateDeploymentDto): Promise<OperationDto> {
    return this.start(principal, 'deploy', dto, dto.key_slot ?? 'auto');
  }

  revoke(principal: Principal, dto: CreateRevocationDto): Promise<OperationDto> {
    return this.start(principal, 'revoke', dto, 'auto');
  }

  async get(principal: Principal, id: string): Promise<DeploymentDto> {
    const deployment = await this.deploymentsRepository.find(id);
    if (!deployment) throw Errors.notFound('deployment');
    const [operation, results] = await Promise.all([
      this.operationsService.get(principal, deployment.operation_id),
      this.deploymentsRepository.results(id),
    ]);
    const count = (outcome: string) => results.filter((result) => result.outcome === outcome).length;
    return {
      id: deployment.id,
      kind: deployment.kind,
      key_id: deployment.key_id,
      key_slot: deployment.key_slot,
      concurrency: deployment.concurrency,
      operation,
      summary: {
        total: results.length,
        pending: count('pending'),
        succeeded: count('succeeded'),
        skipped: count('skipped'),
        failed: count('failed'),
      },
      servers: results.map((result) => ({
        server_id: result.server_id,
        name: result.server_name,
        host: result.host,
        outcome: result.outcome,
        reason: result.reason,
        slots: result.slots,
        message: result.message,
        duration_ms: result.duration_ms,
        finished_at: result.finished_at?.toISOString() ?? null,
      })),
      created_at: deployment.created_at.toISOString(),
    };
  }

  private async start(principal: Principal, kind: DeploymentKind, dto: ServerSelectionDto, slot: number | 'auto'): Promise<OperationDto> {
    const servers = await this.select(dto);
    const key = await this.keysRepository.findLive(dto.key_id);
    if (!key) throw Errors.badReference('IDRAC_KEY.UNKNOWN', 'key_id', `No key with id ${dto.key_id}`);
    const run: Run = {
      deploymentId: randomUUID(),
      kind,
      key,
      slot,
      servers,
      concurrency: Math.min(dto.concurrency ?? this.connector.maxConcurrency, this.connector.maxConcurrency),
    };
    return this.operationsService.submit(principal, {
      type: `idrac.${kind}`,
      resource: { type: 'idrac_deployment', id: run.deploymentId },
      input: { key_id: key.id, key_slot: String(slot), servers: servers.length, concurrency: run.concurrency, tag: dto.tag ?? null },
      prepare: (operationId) =>
        this.deploymentsRepository.create(
          { id: run.deploymentId, operationId, kind, keyId: key.id, keySlot: String(slot), concurrency: run.concurrency },
          servers,
        ),
      run: (context) => this.execute(run, context),
    });
  }

  /** The servers a request names by id or by tag: unknown ids and an empty selection are 400s. */
  private async select(dto: ServerSelectionDto): Promise<IdracServerEntity[]> {
    if ((dto.server_ids === undefined) === (dto.tag === undefined)) {
      throw new AppError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'give either server_ids or tag', [
        { field: 'server_ids', messages: ['give either server_ids or tag'] },
      ]);
    }
    if (dto.server_ids) {
      const ids = [...new Set(dto.server_ids)];
      const servers = await this.serversRepository.findLiveByIds(ids);
      const found = new Set(servers.map((server) => server.id));
      const unknown = ids.filter((id) => !found.has(id));
      if (unknown.length > 0) {
        throw new AppError(HttpStatus.BAD_REQUEST, 'IDRAC_SERVER.UNKNOWN', `${unknown.length} server id(s) do not exist`, [
          { field: 'server_ids', messages: unknown.map((id) => `no server ${id}`) },
        ]);
      }
      return servers;
    }
    const servers = await this.serversRepository.findLiveByTag(dto.tag!);
    if (servers.length === 0) {
      throw new AppError(HttpStatus.BAD_REQUEST, 'IDRAC_DEPLOYMENT.NO_SERVERS', `No server has the tag ${dto.tag}`, [
        { field: 'tag', messages: ['selects no server'] },
      ]);
    }
    return servers;
  }

  private async execute(run: Run, context: OperationContext): Promise<{ summary: Tally & { total: number } }> {
    const verb = run.kind === 'deploy' ? 'deploy' : 'revoke';
    const total = run.servers.length;
    const tally: Tally = { succeeded: 0, skipped: 0, failed: 0 };
    const publicKey = parsePublicKey(run.key.publicKey);
    this.idracEvents.publish(`idrac_${verb}_start`, {
      operationId: context.operationId,
      status: 'running',
      message: `${verb} key ${run.key.name} on ${total} server(s)`,
      deployment_id: run.deploymentId,
      total,
    });
    const perRequest = pLimit(run.concurrency);
    // Servers finish in bursts: their results, and the host keys pinned on first contact, are stored a batch per
    // statement (each server still waits for its own to be stored, the pin before anything is written to the server).
    const results = new WriteBatcher<{ serverId: string; result: ServerResult }>((batch) => this.deploymentsRepository.recordResults(run.deploymentId, batch));
    const pins = new WriteBatcher<{ id: string; fingerprint: string }>((batch) => this.serversRepository.pinHostKeys(batch));
    await Promise.all(
      run.servers.map((server) =>
        perRequest(async () => {
          if (context.signal.aborted) return;
          const result = await this.onServer(run, server, publicKey, pins);
          await results.add({ serverId: server.id, result });
          tally[result.outcome] += 1;
          const completed = tally.succeeded + tally.skipped + tally.failed;
          context.progress({ step: verb, completed, total, ...tally });
          this.idracEvents.publish(`idrac_${verb}_progress`, {
            operationId: context.operationId,
            status: 'running',
            message: `${server.name}: ${result.outcome}${result.reason ? ` (${result.reason})` : ''}`,
            deployment_id: run.deploymentId,
            server: { id: server.id, name: server.name, host: server.host, outcome: result.outcome, reason: result.reason, duration_ms: result.durationMs },
            completed,
            total,
          });
        }),
      ),
    );
    const summary = { total, ...tally };
    const type = tally.failed === 0 ? (`idrac_${verb}_success` as const) : (`idrac_${verb}_error` as const);
    this.idracEvents.publish(type, {
      operationId: context.operationId,
      status: 'succeeded',
      message: `${tally.succeeded} succeeded, ${tally.skipped} skipped, ${tally.failed} failed`,
      error: tally.failed === 0 ? null : { code: 'IDRAC_DEPLOYMENT.SERVERS_FAILED', message: `${tally.failed} of ${total} server(s) failed` },
      deployment_id: run.deploymentId,
      summary,
    });
    return { summary };
  }

  private async onServer(
    run: Run,
    server: IdracServerEntity,
    publicKey: ReturnType<typeof parsePublicKey>,
    pins: WriteBatcher<{ id: string; fingerprint: string }>,
  ): Promise<ServerResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const outcome = await this.connector.withSession(server, async (session) => {
        // A host key pinned on first contact is stored while the slots are read, and before anything is written.
        const pinned = session.firstContact ? pins.add({ id: server.id, fingerprint: session.hostKeyFingerprint }) : Promise.resolve();
        pinned.catch(() => undefined); // awaited below; this only covers an SSH failure that comes first
        const change = { beforeChange: () => pinned };
        const racadm = new RacadmClient(session, server.userIndex);
        const result =
          run.kind === 'deploy'
            ? await racadm.deployKey(publicKey, run.slot, change).then((deployed) => ({ outcome: deployed.outcome, slots: [deployed.slot] }))
            : await racadm.revokeKey(publicKey, change).then((revoked) => ({ outcome: revoked.outcome, slots: [...revoked.slots] }));
        await pinned;
        return result;
      });
      return { ...outcome, reason: null, message: null, durationMs: elapsed() };
    } catch (error) {
      if (error instanceof IdracSshError || error instanceof RacadmError) {
        return { outcome: 'failed', reason: error.reason, slots: [], message: error.message, durationMs: elapsed() };
      }
      if (error instanceof AppError) {
        return { outcome: 'failed', reason: 'command_failed', slots: [], message: error.message, durationMs: elapsed() };
      }
      throw error;
    }
  }
}
