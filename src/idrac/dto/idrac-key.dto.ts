import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';
import { ECDSA_KEY_BITS, RSA_KEY_BITS, SSH_KEY_TYPES, type SshKeyType } from '../ssh-key-material.js';

/** Key names are labels, never paths: no slashes, backslashes, dots at the start or control characters. */
export const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.@-]{0,99}$/;
const KEY_COMMENT = /^[A-Za-z0-9 _.@:+=-]{1,200}$/;

const trimmed = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

export class CreateIdracKeyDto {
  @ApiProperty({ example: 'ops-2026', pattern: KEY_NAME.source })
  @Transform(trimmed)
  @IsString()
  @Matches(KEY_NAME, { message: 'name: letters, digits, space _ . @ - (no path separators), at most 100 characters' })
  name!: string;

  @ApiPropertyOptional({
    description: 'Import this OpenSSH public key instead of generating a pair (RSA at least 2048 bits); then type, bits and comment are taken from it',
    example: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJMMqBqF3ZiDepnDjcjw3PlVAtcGadLG5PkuUk1UHIbZ ops@example',
  })
  @IsOptional()
  @IsString()
  @MaxLength(16_384)
  public_key?: string;

  @ApiPropertyOptional({ enum: SSH_KEY_TYPES, default: 'rsa' })
  @IsOptional()
  @IsIn(SSH_KEY_TYPES)
  type?: SshKeyType;

  @ApiPropertyOptional({ description: 'RSA: 2048, 3072 or 4096 (default); ECDSA: 256 (default), 384 or 521; not for ed25519' })
  @ValidateIf((body: CreateIdracKeyDto) => body.bits !== undefined)
  @IsInt()
  @IsIn([...RSA_KEY_BITS, ...ECDSA_KEY_BITS], { message: 'bits must be 2048, 3072 or 4096 for RSA (256, 384 or 521 for ECDSA)' })
  bits?: number;

  @ApiPropertyOptional({ example: 'opsdeck@ops', maxLength: 200 })
  @IsOptional()
  @IsString()
  @Matches(KEY_COMMENT, { message: 'comment: letters, digits and _ . @ : + = - and spaces, at most 200 characters' })
  comment?: string;
}

export class IdracKeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: SSH_KEY_TYPES }) type!: SshKeyType;
  @ApiProperty() bits!: number;
  @ApiProperty({ type: String, nullable: true }) comment!: string | null;
  @ApiProperty({ description: 'One OpenSSH public key line' }) public_key!: string;
  @ApiProperty({ example: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }) fingerprint!: string;
  @ApiProperty({ description: 'False for an imported public key (deployable, not usable to log in)' }) has_private_key!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class IdracKeyQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ description: 'Part of the name' })
  @IsOptional()
  @IsString()
  q?: string;
}
