import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('idrac_servers')
export class IdracServerEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'varchar', length: 253 }) host!: string;
  @Column({ type: 'integer' }) port!: number;
  @Column({ type: 'varchar', length: 64 }) username!: string;
  /** AES-256-GCM under SECRETS_MASTER_KEY; never leaves the service layer. */
  @Column({ name: 'password_ciphertext', type: 'text', nullable: true }) passwordCiphertext!: string | null;
  @Column({ name: 'auth_key_id', type: 'uuid', nullable: true }) authKeyId!: string | null;
  @Column({ name: 'user_index', type: 'integer' }) userIndex!: number;
  @Column({ type: 'text', array: true }) tags!: string[];
  /** Pinned on first contact; a different key is refused until re-pinned. */
  @Column({ name: 'host_key_fingerprint', type: 'varchar', length: 100, nullable: true }) hostKeyFingerprint!: string | null;
  @Column({ name: 'created_by', type: 'uuid', nullable: true }) createdBy!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}
