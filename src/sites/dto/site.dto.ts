import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';
import { IsOmittable } from '../../common/validation/is-omittable.js';

const trimmed = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

export class SiteDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) organization_id!: string;
  @ApiProperty({ example: 'Marketing site' }) name!: string;
  @ApiProperty({ example: 'https://www.example.org', description: 'Normalized: lower-case scheme and host, no default port or trailing slash' })
  url!: string;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '10.2.3', description: 'From the latest module report' })
  drupal_version!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '8.3.4' }) php_version!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) last_report_at!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) created_by!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) deleted_at!: string | null;
}

export class CreateSiteDto {
  @ApiProperty({ example: 'Marketing site', maxLength: 200 })
  @Transform(trimmed)
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: 'https://www.example.org', maxLength: 2048, description: 'Absolute http(s) URL' })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "Defaults to the caller's organization; only admins may choose another" })
  @IsOptional()
  @IsUUID()
  organization_id?: string;
}

export class UpdateSiteDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOmittable()
  @Transform(trimmed)
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOmittable()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ maxLength: 2000, nullable: true, description: 'null clears it' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;
}

export class SiteQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  organization_id?: string;

  @ApiPropertyOptional({ description: 'Part of the name or URL, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;
}
