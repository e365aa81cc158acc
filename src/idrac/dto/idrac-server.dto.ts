import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';
import { IsOmittable } from '../../common/validation/is-omittable.js';
import { isValidHost } from '../target-policy.js';

export const TAG = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const trimmed = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

@ValidatorConstraint({ name: 'isHost' })
class IsHostConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isValidHost(value);
  }
  defaultMessage(): string {
    return 'host must be an IPv4 address, an IPv6 address or a host name';
  }
}

class ServerFields {
  @ApiProperty({ example: 'rack4-idrac', maxLength: 200 })
  @Transform(trimmed)
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: '10.20.0.14', description: 'IPv4, IPv6 or host name' })
  @IsString()
  @MaxLength(253)
  @Validate(IsHostConstraint)
  host!: string;

  @ApiPropertyOptional({ default: 22, minimum: 1, maximum: 65535 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  port?: number;

  @ApiProperty({ example: 'root' })
  @IsString()
  @Matches(USERNAME, { message: 'username: letters, digits, _ . @ -, at most 64 characters' })
  username!: string;

  @ApiPropertyOptional({ description: 'Stored encrypted (AES-256-GCM); never returned', writeOnly: true })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  password?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Log in with this generated key instead of a password' })
  @IsOptional()
  @IsUUID()
  auth_key_id?: string;

  @ApiPropertyOptional({ default: 2, minimum: 1, maximum: 16, description: 'The iDRAC user whose key slots are managed' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(16)
  user_index?: number;

  @ApiPropertyOptional({ type: [String], example: ['rack4', 'prod'] })
  @IsOptional()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Matches(TAG, { each: true, message: 'each tag: lower-case letters, digits, _ . : -, at most 64 characters' })
  tags?: string[];
}

export class CreateIdracServerDto extends ServerFields {}

export class UpdateIdracServerDto {
  @ApiPropertyOptional() @IsOmittable() @Transform(trimmed) @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional() @IsOmittable() @IsString() @MaxLength(253) @Validate(IsHostConstraint) host?: string;
  @ApiPropertyOptional() @IsOmittable() @IsInt() @Min(1) @Max(65535) port?: number;
  @ApiPropertyOptional() @IsOmittable() @IsString() @Matches(USERNAME) username?: string;
  @ApiPropertyOptional({ writeOnly: true }) @IsOmittable() @IsString() @Length(1, 256) password?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOmittable() @IsUUID() auth_key_id?: string;
  @ApiPropertyOptional() @IsOmittable() @IsInt() @Min(1) @Max(16) user_index?: number;

  @ApiPropertyOptional({ type: [String] })
  @IsOmittable()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Matches(TAG, { each: true, message: 'each tag: lower-case letters, digits, _ . : -, at most 64 characters' })
  tags?: string[];

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Re-pin the host key: a SHA256 fingerprint, or null to pin whatever the server presents next',
  })
  @IsOptional()
  @IsString()
  @Matches(FINGERPRINT, { message: 'host_key_fingerprint must be SHA256:<43 base64 characters> or null' })
  host_key_fingerprint?: string | null;
}

export class IdracServerDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() host!: string;
  @ApiProperty() port!: number;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ['password', 'key'] }) auth!: 'password' | 'key';
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) auth_key_id!: string | null;
  @ApiProperty() user_index!: number;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ type: String, nullable: true, description: 'Pinned on first contact' }) host_key_fingerprint!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class IdracServerQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ example: 'rack4' })
  @IsOptional()
  @IsString()
  @Matches(TAG, { message: 'tag: lower-case letters, digits, _ . : -' })
  tag?: string;

  @ApiPropertyOptional({ description: 'Part of the name or host' })
  @IsOptional()
  @IsString()
  @MaxLength(253)
  q?: string;
}

export class ServerTestDto {
  @ApiProperty() reachable!: boolean;
  @ApiProperty() auth_ok!: boolean;
  @ApiProperty({ type: Number, nullable: true }) latency_ms!: number | null;
  @ApiProperty({ type: String, nullable: true, example: '7.00.00.171' }) racadm_version!: string | null;
  @ApiProperty({ type: String, nullable: true }) host_key_fingerprint!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['auth_failed', 'timeout', 'unreachable', 'host_key_mismatch', 'command_failed'],
  })
  reason!: string | null;
  @ApiProperty({ type: String, nullable: true }) message!: string | null;
}
