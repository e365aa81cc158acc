import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const OPERATION_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
export const UNFINISHED_STATUSES: readonly OperationStatus[] = ['pending', 'running'];

/** What a failed or interrupted operation says went wrong; `reason` is stable for clients to branch on. */
export interface OperationError {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
  readonly reason?: string;
}

export interface OperationProgress {
  readonly step?: string;
  readonly completed?: number;
  readonly total?: number;
  readonly message?: string;
  readonly [key: string]: unknown;
}

@Entity('operations')
export class OperationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: OperationStatus;

  @Column({ name: 'resource_type', type: 'varchar', length: 32 })
  resourceType!: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 200 })
  resourceId!: string;

  @Column({ name: 'lock_key', type: 'varchar', length: 300, nullable: true })
  lockKey!: string | null;

  @Column({ type: 'jsonb' })
  input!: Record<string, unknown>;

  @Column({ type: 'jsonb', nullable: true })
  progress!: OperationProgress | null;

  @Column({ type: 'jsonb', nullable: true })
  result!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  error!: OperationError | null;

  /** The process that runs it; at start-up an instance interrupts what it left unfinished. */
  @Column({ type: 'varchar', length: 255 })
  instance!: string;

  @Column({ name: 'requested_by_kind', type: 'varchar', length: 16 })
  requestedByKind!: string;

  @Column({ name: 'requested_by_id', type: 'uuid', nullable: true })
  requestedById!: string | null;

  @Column({ name: 'requested_by_label', type: 'varchar', length: 320 })
  requestedByLabel!: string;

  @Column({ name: 'organization_id', type: 'uuid', nullable: true })
  organizationId!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
