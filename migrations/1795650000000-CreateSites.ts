import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drupal site monitoring: sites, the module catalog, each site's current modules and version history,
 * imported release histories, patch runs. Module statuses are computed when reports or release histories
 * arrive and stored on site_modules, so the reports read indexed rows instead of re-evaluating versions.
 */
export class CreateSites1795650000000 implements MigrationInterface {
  name = 'CreateSites1795650000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE sites (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations (id),
        name            varchar(200) NOT NULL,
        url             varchar(2048) NOT NULL,
        description     varchar(2000),
        drupal_version  varchar(64),
        php_version     varchar(64),
        last_report_at  timestamptz,
        created_by      uuid,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        deleted_at      timestamptz
      )`);
    await queryRunner.query('CREATE UNIQUE INDEX sites_live_url_key ON sites (url) WHERE deleted_at IS NULL');
    await queryRunner.query('CREATE INDEX sites_live_name_idx ON sites (lower(name), id) WHERE deleted_at IS NULL');
    await queryRunner.query(
      'CREATE INDEX sites_live_organization_idx ON sites (organization_id, lower(name), id) WHERE deleted_at IS NULL',
    );
    await queryRunner.query(
      'ALTER TABLE api_keys ADD CONSTRAINT api_keys_site_fk FOREIGN KEY (site_id) REFERENCES sites (id)',
    );

    // The catalog: one row per machine name, whichever sites run it.
    await queryRunner.query(`
      CREATE TABLE modules (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name       varchar(128) NOT NULL UNIQUE,
        project    varchar(128) NOT NULL,
        type       varchar(16) NOT NULL DEFAULT 'module' CHECK (type IN ('module', 'theme', 'profile', 'core')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX modules_project_idx ON modules (project)');

    await queryRunner.query(`
      CREATE TABLE site_modules (
        site_id                   uuid NOT NULL REFERENCES sites (id),
        module_id                 uuid NOT NULL REFERENCES modules (id),
        installed_version         varchar(64) NOT NULL,
        status                    varchar(16) NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
        reported_latest_version   varchar(64),
        reported_update_available boolean,
        reported_security_update  boolean,
        update_status             varchar(24) NOT NULL DEFAULT 'unknown' CHECK (update_status IN
                                    ('current', 'update_available', 'security_update', 'unsupported', 'revoked', 'unknown')),
        recommended_version       varchar(64),
        status_source             varchar(16) NOT NULL DEFAULT 'none' CHECK (status_source IN
                                    ('release_history', 'site_report', 'none')),
        status_reason             varchar(300),
        update_available_since    timestamptz,
        first_seen_at             timestamptz NOT NULL DEFAULT now(),
        last_seen_at              timestamptz NOT NULL DEFAULT now(),
        removed_at                timestamptz,
        PRIMARY KEY (site_id, module_id)
      )`);
    await queryRunner.query('CREATE INDEX site_modules_module_idx ON site_modules (module_id) WHERE removed_at IS NULL');
    // The module-updates report counts each module's sites per status with an index-only scan of this
    // instead of reading ~60k heap rows at 2,000 sites x 150 modules.
    await queryRunner.query(`
      CREATE INDEX site_modules_needing_update_idx ON site_modules (module_id, update_status, site_id)
        WHERE removed_at IS NULL AND update_status IN ('security_update', 'update_available', 'unsupported', 'revoked')`);

    // Version history: which versions of a module each site has run, and when an update was first known for it.
    await queryRunner.query(`
      CREATE TABLE module_versions (
        module_id       uuid NOT NULL REFERENCES modules (id),
        version         varchar(64) NOT NULL,
        site_id         uuid NOT NULL REFERENCES sites (id),
        first_seen_at   timestamptz NOT NULL DEFAULT now(),
        last_seen_at    timestamptz NOT NULL DEFAULT now(),
        update_known_at timestamptz,
        PRIMARY KEY (module_id, version, site_id)
      )`);
    await queryRunner.query('CREATE INDEX module_versions_site_idx ON module_versions (site_id, module_id)');

    await queryRunner.query(`
      CREATE TABLE release_projects (
        name               varchar(128) PRIMARY KEY,
        title              varchar(255),
        project_status     varchar(32) NOT NULL,
        supported_branches text[] NOT NULL DEFAULT '{}',
        imported_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE releases (
        project          varchar(128) NOT NULL REFERENCES release_projects (name) ON DELETE CASCADE,
        version          varchar(64) NOT NULL,
        status           varchar(32) NOT NULL,
        released_at      timestamptz,
        release_types    text[] NOT NULL DEFAULT '{}',
        security_covered boolean,
        PRIMARY KEY (project, version)
      )`);

    await queryRunner.query(`
      CREATE TABLE patch_runs (
        id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        site_id         uuid NOT NULL REFERENCES sites (id),
        started_at      timestamptz NOT NULL,
        finished_at     timestamptz NOT NULL,
        status          varchar(16) NOT NULL CHECK (status IN ('succeeded', 'failed', 'partial')),
        notes           varchar(4000),
        modules_updated integer NOT NULL DEFAULT 0,
        reported_by     uuid,
        created_at      timestamptz NOT NULL DEFAULT now(),
        CHECK (finished_at >= started_at)
      )`);
    await queryRunner.query('CREATE INDEX patch_runs_site_idx ON patch_runs (site_id, finished_at DESC, id)');
    await queryRunner.query('CREATE INDEX patch_runs_finished_idx ON patch_runs (finished_at)');
    await queryRunner.query(`
      CREATE TABLE patch_run_updates (
        patch_run_id    uuid NOT NULL REFERENCES patch_runs (id) ON DELETE CASCADE,
        position        integer NOT NULL,
        module          varchar(128) NOT NULL,
        module_id       uuid REFERENCES modules (id),
        from_version    varchar(64) NOT NULL,
        to_version      varchar(64) NOT NULL,
        update_known_at timestamptz,
        PRIMARY KEY (patch_run_id, position)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE patch_run_updates');
    await queryRunner.query('DROP TABLE patch_runs');
    await queryRunner.query('DROP TABLE releases');
    await queryRunner.query('DROP TABLE release_projects');
    await queryRunner.query('DROP TABLE module_versions');
    await queryRunner.query('DROP TABLE site_modules');
    await queryRunner.query('DROP TABLE modules');
    await queryRunner.query('ALTER TABLE api_keys DROP CONSTRAINT api_keys_site_fk');
    await queryRunner.query('DROP TABLE sites');
  }
}
