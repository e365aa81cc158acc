import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Long-running work (container lifecycle, key deployments) with its progress, outcome and owner. */
export class CreateOperations1796300000000 implements MigrationInterface {
  name = 'CreateOperations1796300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE operations (
        id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type                  varchar(64) NOT NULL,
        status                varchar(16) NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
        resource_type         varchar(32) NOT NULL,
        resource_id           varchar(200) NOT NULL,
        lock_key              varchar(300),
        input                 jsonb NOT NULL DEFAULT '{}'::jsonb,
        progress              jsonb,
        result                jsonb,
        error                 jsonb,
        instance              varchar(255) NOT NULL,
        requested_by_kind     varchar(16) NOT NULL,
        requested_by_id       uuid,
        requested_by_label    varchar(320) NOT NULL,
        organization_id       uuid,
        created_at            timestamptz NOT NULL DEFAULT now(),
        started_at            timestamptz,
        finished_at           timestamptz,
        CHECK ((status IN ('pending', 'running')) = (finished_at IS NULL))
      )`);
    // The one-mutating-operation-per-resource rule, held by the database so it holds across instances too.
    await queryRunner.query(
      "CREATE UNIQUE INDEX operations_active_lock_key ON operations (lock_key) WHERE status IN ('pending', 'running')",
    );
    await queryRunner.query('CREATE INDEX operations_created_idx ON operations (created_at DESC, id DESC)');
    await queryRunner.query('CREATE INDEX operations_resource_idx ON operations (resource_type, resource_id, created_at DESC)');
    await queryRunner.query(
      "CREATE INDEX operations_unfinished_idx ON operations (instance) WHERE status IN ('pending', 'running')",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE operations');
  }
}
