import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { SshKeyType } from '../ssh-key-material.js';

/** A generated key pair (the private half lives only in a file under keys_dir named by this id) or an imported public key. */
@Entity('idrac_keys')
export class IdracKeyEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Column({ type: 'varchar', length: 16 }) type!: SshKeyType;
  @Column({ type: 'integer' }) bits!: number;
  @Column({ type: 'varchar', length: 200, nullable: true }) comment!: string | null;
  @Column({ name: 'public_key', type: 'text' }) publicKey!: string;
  @Column({ type: 'varchar', length: 100 }) fingerprint!: string;
  /** False for an imported public key: it can be deployed but not used to log in. */
  @Column({ name: 'has_private_key', type: 'boolean' }) hasPrivateKey!: boolean;
  @Column({ name: 'created_by', type: 'uuid', nullable: true }) createdBy!: string | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt!: Date | null;
}
