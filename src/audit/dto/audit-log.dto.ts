import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';

/** Every resource_type an audit row can carry; the filter refuses anything else. */
export const AUDITED_RESOURCE_TYPES = [
  'organization',
  'user',
  'api_key',
  'auth',
  'site',
  'patch_run',
  'release_history',
  'container',
  'idrac',
] as const;

export class AuditActorDto {
  @ApiProperty({ enum: ['user', 'api_key', 'bootstrap', 'anonymous', 'system'] })
  type!: string;

  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  id!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Email or API key prefix' })
  label!: string | null;
}

export class AuditLogDto {
  @ApiProperty({ example: '1042' }) id!: string;
  @ApiProperty({ format: 'date-time' }) occurred_at!: string;
  @ApiProperty({ type: AuditActorDto }) actor!: AuditActorDto;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) organization_id!: string | null;
  @ApiProperty({ example: 'user.create' }) action!: string;
  @ApiProperty({ example: 'user' }) resource_type!: string;
  @ApiProperty({ type: String, nullable: true }) resource_id!: string | null;
  @ApiProperty({ enum: ['success', 'failure'] }) outcome!: string;
  @ApiProperty({ example: 201 }) status_code!: number;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) user_agent!: string | null;
  @ApiProperty({ type: String, nullable: true }) request_id!: string | null;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'Changed fields; secrets show as [REDACTED]' })
  changes!: Record<string, unknown> | null;
}

export class AuditLogQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Only rows at or after this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  from?: Date;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only rows at or before this time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  to?: Date;

  @ApiPropertyOptional({ description: 'An HTTP status code (403) or an outcome (success, failure)' })
  @IsOptional()
  @Matches(/^(\d{3}|success|failure)$/, { message: 'status must be a 3-digit status code, success or failure' })
  status?: string;

  @ApiPropertyOptional({ description: "The actor's id, or an email / key prefix" })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  actor?: string;

  @ApiPropertyOptional({ example: 'user.create' })
  @IsOptional()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'action must look like resource.verb (user.create)' })
  action?: string;

  @ApiPropertyOptional({ enum: AUDITED_RESOURCE_TYPES, example: 'user' })
  @IsOptional()
  @IsIn(AUDITED_RESOURCE_TYPES)
  resource_type?: string;
}
