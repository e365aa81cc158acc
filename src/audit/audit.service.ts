import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { requestContext } from '../common/http/request-context.js';
import { Page } from '../common/pagination/pagination.js';
import type { Principal } from '../auth/principal.js';
import { AuditRepository } from './audit.repository.js';
import { AuditLogDto, AuditLogQueryDto } from './dto/audit-log.dto.js';
import type { ActorType, AuditLogEntity, AuditOutcome } from './entities/audit-log.entity.js';

export interface AuditEntry {
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId?: string | null;
  readonly outcome?: AuditOutcome;
  readonly statusCode?: number;
  /** Changed fields; anything that looks like a secret is recorded as changed but never by value. */
  readonly changes?: Record<string, unknown> | null;
  /** Who acted, when it is not the request's caller (a login names the account it tried). */
  readonly actor?: { readonly type: ActorType; readonly id: string | null; readonly label: string | null; readonly organizationId?: string | null };
}

const SECRET_FIELD = /password|token|secret|private_key|key_hash|^key$/i;

@Injectable()
export class AuditService {
  constructor(private readonly auditRepository: AuditRepository) {}

  /** One row, in the caller's transaction when a manager is given; marks the request as audited. */
  async record(entry: AuditEntry, manager?: EntityManager): Promise<void> {
    const context = requestContext.current();
    const actor = entry.actor ?? actorOf(context?.principal);
    await this.auditRepository.insert(
      {
        actorType: actor.type,
        actorId: actor.id,
        actorLabel: actor.label,
        organizationId: actor.organizationId ?? null,
        action: entry.action,
        resourceType: entry.resourceType,
        resourceId: entry.resourceId ?? null,
        outcome: entry.outcome ?? 'success',
        statusCode: entry.statusCode ?? 200,
        ip: context?.ip ?? null,
        userAgent: context?.userAgent ?? null,
        requestId: context?.requestId ?? null,
        changes: entry.changes ? redactSecrets(entry.changes) : null,
      },
      manager,
    );
    if (context) context.auditWritten = true;
  }

  /** For the exception filter: the audited request was refused or failed before a service recorded it. */
  async recordFailure(statusCode: number): Promise<void> {
    const context = requestContext.current();
    if (!context?.audit || context.auditWritten) return;
    await this.record({
      action: context.audit.action,
      resourceType: context.audit.resourceType,
      resourceId: context.audit.resourceId,
      outcome: 'failure',
      statusCode,
    });
  }

  async list(query: AuditLogQueryDto): Promise<Page<AuditLogDto>> {
    const numericStatus = query.status !== undefined && /^\d{3}$/.test(query.status) ? Number(query.status) : undefined;
    const outcome = query.status === 'success' || query.status === 'failure' ? query.status : undefined;
    const actorIsId = query.actor !== undefined && /^[0-9a-f-]{36}$/i.test(query.actor);
    const { rows, total } = await this.auditRepository.search({
      from: query.from,
      to: query.to,
      statusCode: numericStatus,
      outcome,
      actorId: actorIsId ? query.actor : undefined,
      actorLabel: actorIsId ? undefined : query.actor,
      action: query.action,
      resourceType: query.resource_type,
      offset: query.offset,
      limit: query.per_page,
    });
    return new Page(rows.map(toAuditLogDto), total, query);
  }
}

function actorOf(principal: Principal | undefined): NonNullable<AuditEntry['actor']> {
  if (!principal) return { type: 'anonymous', id: null, label: null };
  return { type: principal.kind, id: principal.id, label: principal.label, organizationId: principal.organizationId };
}

function redactSecrets(changes: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(changes).map(([field, value]) => [field, SECRET_FIELD.test(field) ? '[REDACTED]' : value]),
  );
}

function toAuditLogDto(row: AuditLogEntity): AuditLogDto {
  return {
    id: String(row.id),
    occurred_at: row.occurredAt.toISOString(),
    actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
    organization_id: row.organizationId,
    action: row.action,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
    outcome: row.outcome,
    status_code: row.statusCode,
    ip: row.ip,
    user_agent: row.userAgent,
    request_id: row.requestId,
    changes: row.changes,
  };
}
