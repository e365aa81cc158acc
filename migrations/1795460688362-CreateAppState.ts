import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Installation-wide key/value state (install time, one-off bootstrap markers). */
export class CreateAppState1795460688362 implements MigrationInterface {
  name = 'CreateAppState1795460688362';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE app_state (
        key        varchar(100) PRIMARY KEY,
        value      jsonb        NOT NULL,
        updated_at timestamptz  NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `INSERT INTO app_state (key, value) VALUES ('installed_at', to_jsonb(now()))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE app_state');
  }
}
