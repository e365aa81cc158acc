import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';
import { IsOmittable } from '../../common/validation/is-omittable.js';

const trimmed = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

export class OrganizationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'Acme Hosting' }) name!: string;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The user who created it' })
  created_by!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) deleted_at!: string | null;
}

export class CreateOrganizationDto {
  @ApiProperty({ example: 'Acme Hosting', maxLength: 200 })
  @Transform(trimmed)
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class UpdateOrganizationDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOmittable()
  @Transform(trimmed)
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000, nullable: true, description: 'null clears it' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;
}

export class OrganizationQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ description: 'Part of the name, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;
}
