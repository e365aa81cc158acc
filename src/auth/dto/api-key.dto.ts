import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsIn, IsOptional, IsString, IsUUID, Length, MinDate } from 'class-validator';
import { ROLES, type Role } from '../principal.js';

export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'drupal-reporter' }) name!: string;
  @ApiProperty({ example: 'odk_3fA9xQ2b', description: 'The first characters of the key, to recognise it' })
  prefix!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ format: 'uuid' }) organization_id!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'Limited to this site' })
  site_id!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) expires_at!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) last_used_at!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) revoked_at!: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The key itself. It is shown this once and cannot be recovered.' })
  key!: string;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'drupal-reporter', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ enum: ROLES, default: 'viewer' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ format: 'uuid', description: "Defaults to the caller's organization" })
  @IsOptional()
  @IsUUID()
  organization_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "Limit the key to this site's module reports and patch runs" })
  @IsOptional()
  @IsUUID()
  site_id?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the key stops working' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  @MinDate(() => new Date(), { message: 'expires_at must be in the future' })
  expires_at?: Date;
}
