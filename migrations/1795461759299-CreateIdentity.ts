import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Organizations, users, API keys, revoked tokens and the append-only audit log. */
export class CreateIdentity1795461759299 implements MigrationInterface {
  name = 'CreateIdentity1795461759299';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE organizations (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name        varchar(200) NOT NULL,
        description varchar(2000),
        created_by  uuid,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        deleted_at  timestamptz
      )`);
    await queryRunner.query(
      'CREATE UNIQUE INDEX organizations_live_name_key ON organizations (lower(name)) WHERE deleted_at IS NULL',
    );

    await queryRunner.query(`
      CREATE TABLE users (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email           varchar(320) NOT NULL,
        name            varchar(200),
        password_hash   text NOT NULL,
        role            varchar(16) NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'operator', 'viewer')),
        organization_id uuid NOT NULL REFERENCES organizations (id),
        is_deleted      boolean NOT NULL DEFAULT false,
        deleted_at      timestamptz,
        last_login_at   timestamptz,
        created_by      uuid,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE UNIQUE INDEX users_live_email_key ON users (lower(email)) WHERE NOT is_deleted');
    await queryRunner.query('CREATE INDEX users_organization_idx ON users (organization_id) WHERE NOT is_deleted');

    await queryRunner.query(`
      CREATE TABLE api_keys (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name            varchar(200) NOT NULL,
        prefix          varchar(16) NOT NULL,
        key_hash        char(64) NOT NULL UNIQUE,
        role            varchar(16) NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
        organization_id uuid NOT NULL REFERENCES organizations (id),
        site_id         uuid,
        created_by      uuid,
        created_at      timestamptz NOT NULL DEFAULT now(),
        expires_at      timestamptz,
        last_used_at    timestamptz,
        revoked_at      timestamptz
      )`);
    await queryRunner.query('CREATE INDEX api_keys_organization_idx ON api_keys (organization_id)');

    await queryRunner.query(`
      CREATE TABLE revoked_tokens (
        jti        uuid PRIMARY KEY,
        user_id    uuid NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query('CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at)');

    await queryRunner.query(`
      CREATE TABLE audit_logs (
        id              bigserial PRIMARY KEY,
        occurred_at     timestamptz NOT NULL DEFAULT now(),
        actor_type      varchar(16) NOT NULL,
        actor_id        uuid,
        actor_label     varchar(320),
        organization_id uuid,
        action          varchar(64) NOT NULL,
        resource_type   varchar(64) NOT NULL,
        resource_id     varchar(200),
        outcome         varchar(16) NOT NULL CHECK (outcome IN ('success', 'failure')),
        status_code     smallint NOT NULL,
        ip              varchar(64),
        user_agent      varchar(500),
        request_id      varchar(128),
        changes         jsonb
      )`);
    await queryRunner.query('CREATE INDEX audit_logs_occurred_idx ON audit_logs (occurred_at DESC, id DESC)');
    await queryRunner.query('CREATE INDEX audit_logs_actor_idx ON audit_logs (actor_id, occurred_at DESC)');
    await queryRunner.query('CREATE INDEX audit_logs_action_idx ON audit_logs (action, occurred_at DESC)');
    await queryRunner.query('CREATE INDEX audit_logs_resource_idx ON audit_logs (resource_type, resource_id)');
    // The audit trail is append-only even for code that bypasses the API.
    await queryRunner.query(`
      CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_logs is append-only';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_logs_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_logs
      FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE audit_logs');
    await queryRunner.query('DROP FUNCTION audit_logs_append_only()');
    await queryRunner.query('DROP TABLE revoked_tokens');
    await queryRunner.query('DROP TABLE api_keys');
    await queryRunner.query('DROP TABLE users');
    await queryRunner.query('DROP TABLE organizations');
  }
}
