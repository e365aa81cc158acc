import type { EntityManager } from 'typeorm';

/** Transaction-scoped PostgreSQL advisory locks, one key per kind of change that must not interleave. */
export const AdvisoryLock = {
  /** Changes that create or remove admins: first-admin bootstrap, demotion, deletion of users or organizations. */
  AdminChanges: 7_431_001,
} as const;

export async function lockForTransaction(manager: EntityManager, key: number): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock($1)', [key]);
}
