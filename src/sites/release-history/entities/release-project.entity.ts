import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An imported updates.drupal.org release history, one row per project. */
@Entity('release_projects')
export class ReleaseProjectEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  name!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  title!: string | null;

  @Column({ name: 'project_status', type: 'varchar', length: 32 })
  projectStatus!: string;

  @Column({ name: 'supported_branches', type: 'text', array: true })
  supportedBranches!: string[];

  @Column({ name: 'imported_at', type: 'timestamptz' })
  importedAt!: Date;
}
