import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One release of an imported project. */
@Entity('releases')
export class ReleaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  project!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  version!: string;

  @Column({ type: 'varchar', length: 32 })
  status!: string;

  @Column({ name: 'released_at', type: 'timestamptz', nullable: true })
  releasedAt!: Date | null;

  @Column({ name: 'release_types', type: 'text', array: true })
  releaseTypes!: string[];

  @Column({ name: 'security_covered', type: 'boolean', nullable: true })
  securityCovered!: boolean | null;
}
