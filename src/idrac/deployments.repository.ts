import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export type DeploymentKind = 'deploy' | 'revoke';
export type ServerOutcome = 'pending' | 'succeeded' | 'skipped' | 'failed';

export interface DeploymentRow {
  readonly id: string;
  readonly operation_id: string;
  readonly kind: DeploymentKind;
  readonly key_id: string;
  readonly key_slot: string;
  readonly concurrency: number;
  readonly created_at: Date;
}

export interface ServerResultRow {
  readonly server_id: string;
  readonly server_name: string;
  readonly host: string;
  readonly outcome: ServerOutcome;
  readonly reason: string | null;
  readonly slots: number[];
  readonly message: string | null;
  readonly duration_ms: number | null;
  readonly finished_at: Date | null;
}

export interface ServerResult {
  readonly outcome: Exclude<ServerOutcome, 'pending'>;
  readonly reason: string | null;
  readonly slots: readonly number[];
  readonly message: string | null;
  readonly durationMs: number;
}

@Injectable()
export class DeploymentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The deployment and one pending result per server, in one statement each, in one transaction. */
  async create(
    deployment: { id: string; operationId: string; kind: DeploymentKind; keyId: string; keySlot: string; concurrency: number },
    servers: ReadonlyArray<{ id: string; name: string; host: string }>,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO idrac_deployments (id, operation_id, kind, key_id, key_slot, concurrency) VALUES ($1, $2, $3, $4, $5, $6)`,
        [deployment.id, deployment.operationId, deployment.kind, deployment.keyId, deployment.keySlot, deployment.concurrency],
      );
      await manager.query(
        `INSERT INTO idrac_deployment_results (deployment_id, server_id, server_name, host)
         SELECT $1, s.id, s.name, s.host FROM unnest($2::uuid[], $3::text[], $4::text[]) AS s(id, name, host)`,
        [deployment.id, servers.map((s) => s.id), servers.map((s) => s.name), servers.map((s) => s.host)],
      );
    });
  }

  async find(id: string): Promise<DeploymentRow | null> {
    const [row] = await this.dataSource.query<DeploymentRow[]>('SELECT * FROM idrac_deployments WHERE id = $1', [id]);
    return row ?? null;
  }

  results(id: string): Promise<ServerResultRow[]> {
    return this.dataSource.query<ServerResultRow[]>(
      `SELECT server_id, server_name, host, outcome, reason, slots, message, duration_ms, finished_at
         FROM idrac_deployment_results WHERE deployment_id = $1 ORDER BY server_name, server_id`,
      [id],
    );
  }

  /** Several servers' results in one statement (a deployment's servers finish in bursts). */
  async recordResults(deploymentId: string, results: ReadonlyArray<{ readonly serverId: string; readonly result: ServerResult }>): Promise<void> {
    if (results.length === 0) return;
    const rows = results.map(({ serverId, result }) => ({
      server_id: serverId,
      outcome: result.outcome,
      reason: result.reason,
      slots: [...result.slots],
      message: result.message?.slice(0, 500) ?? null,
      duration_ms: result.durationMs,
    }));
    await this.dataSource.query(
      `UPDATE idrac_deployment_results r
          SET outcome = v.outcome, reason = v.reason, slots = v.slots, message = v.message, duration_ms = v.duration_ms, finished_at = now()
         FROM jsonb_to_recordset($2::jsonb) AS v(server_id uuid, outcome varchar, reason varchar, slots integer[], message varchar, duration_ms integer)
        WHERE r.deployment_id = $1 AND r.server_id = v.server_id`,
      [deploymentId, JSON.stringify(rows)],
    );
  }
}
