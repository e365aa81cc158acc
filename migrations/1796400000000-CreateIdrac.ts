import type { MigrationInterface, QueryRunner } from 'typeorm';

/** iDRAC key pairs (public half only; private keys are files), servers with encrypted passwords, deployments. */
export class CreateIdrac1796400000000 implements MigrationInterface {
  name = 'CreateIdrac1796400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE idrac_keys (
        id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name         varchar(100) NOT NULL,
        type         varchar(16) NOT NULL CHECK (type IN ('rsa', 'ed25519', 'ecdsa')),
        bits         integer NOT NULL,
        comment      varchar(200),
        public_key   text NOT NULL,
        fingerprint  varchar(100) NOT NULL,
        has_private_key boolean NOT NULL,
        created_by   uuid,
        created_at   timestamptz NOT NULL DEFAULT now(),
        deleted_at   timestamptz
      )`);
    await queryRunner.query('CREATE UNIQUE INDEX idrac_keys_live_name_key ON idrac_keys (lower(name)) WHERE deleted_at IS NULL');

    await queryRunner.query(`
      CREATE TABLE idrac_servers (
        id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name                  varchar(200) NOT NULL,
        host                  varchar(253) NOT NULL,
        port                  integer NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
        username              varchar(64) NOT NULL,
        password_ciphertext   text,
        auth_key_id           uuid REFERENCES idrac_keys (id),
        user_index            integer NOT NULL DEFAULT 2 CHECK (user_index BETWEEN 1 AND 16),
        tags                  text[] NOT NULL DEFAULT '{}',
        host_key_fingerprint  varchar(100),
        created_by            uuid,
        created_at            timestamptz NOT NULL DEFAULT now(),
        updated_at            timestamptz NOT NULL DEFAULT now(),
        deleted_at            timestamptz
      )`);
    await queryRunner.query('CREATE UNIQUE INDEX idrac_servers_live_name_key ON idrac_servers (lower(name)) WHERE deleted_at IS NULL');
    await queryRunner.query('CREATE INDEX idrac_servers_tags_idx ON idrac_servers USING gin (tags) WHERE deleted_at IS NULL');

    await queryRunner.query(`
      CREATE TABLE idrac_deployments (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        operation_id  uuid NOT NULL UNIQUE REFERENCES operations (id),
        kind          varchar(16) NOT NULL CHECK (kind IN ('deploy', 'revoke')),
        key_id        uuid NOT NULL REFERENCES idrac_keys (id),
        key_slot      varchar(8) NOT NULL,
        concurrency   integer NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX idrac_deployments_key_idx ON idrac_deployments (key_id)');
    await queryRunner.query(`
      CREATE TABLE idrac_deployment_results (
        deployment_id  uuid NOT NULL REFERENCES idrac_deployments (id),
        server_id      uuid NOT NULL REFERENCES idrac_servers (id),
        server_name    varchar(200) NOT NULL,
        host           varchar(253) NOT NULL,
        outcome        varchar(16) NOT NULL DEFAULT 'pending'
                       CHECK (outcome IN ('pending', 'succeeded', 'skipped', 'failed')),
        reason         varchar(32),
        slots          integer[] NOT NULL DEFAULT '{}',
        message        varchar(500),
        duration_ms    integer,
        finished_at    timestamptz,
        PRIMARY KEY (deployment_id, server_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE idrac_deployment_results');
    await queryRunner.query('DROP TABLE idrac_deployments');
    await queryRunner.query('DROP TABLE idrac_servers');
    await queryRunner.query('DROP TABLE idrac_keys');
  }
}
