import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PaginationQueryDto } from '../../../common/pagination/pagination.js';
import { MODULE_STATES, MODULE_TYPES, type ModuleState, type ModuleType } from './module-report.dto.js';

export const UPDATE_STATUSES = ['current', 'update_available', 'security_update', 'unsupported', 'revoked', 'unknown'] as const;
export type UpdateStatus = (typeof UPDATE_STATUSES)[number];
export const STATUS_SOURCES = ['release_history', 'site_report', 'none'] as const;
export type StatusSource = (typeof STATUS_SOURCES)[number];

export class SiteModuleDto {
  @ApiProperty({ format: 'uuid' }) module_id!: string;
  @ApiProperty({ example: 'token' }) name!: string;
  @ApiProperty({ example: 'token' }) project!: string;
  @ApiProperty({ enum: MODULE_TYPES }) type!: ModuleType;
  @ApiProperty({ enum: MODULE_STATES }) status!: ModuleState;
  @ApiProperty({ example: '8.x-1.13' }) installed_version!: string;
  @ApiProperty({ type: String, nullable: true, example: '8.x-1.15' }) recommended_version!: string | null;
  @ApiProperty({ enum: UPDATE_STATUSES }) update_status!: UpdateStatus;
  @ApiProperty({
    enum: STATUS_SOURCES,
    description: "release_history: computed by OpsDeck; site_report: the site's own flags; none: nothing known",
  })
  status_source!: StatusSource;
  @ApiProperty({ type: String, nullable: true, example: '8.x-1.15 is a security release in the 8.x-1.x branch' })
  status_reason!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When an update was first known' })
  update_available_since!: string | null;
  @ApiProperty({ format: 'date-time' }) first_seen_at!: string;
  @ApiProperty({ format: 'date-time' }) last_seen_at!: string;
}

export class SiteModuleQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: UPDATE_STATUSES, description: 'Only modules with this update status' })
  @IsOptional()
  @IsIn(UPDATE_STATUSES)
  status?: UpdateStatus;
}

export class ModuleVersionSiteDto {
  @ApiProperty({ format: 'uuid' }) site_id!: string;
  @ApiProperty() site_name!: string;
  @ApiProperty() site_url!: string;
  @ApiProperty({ format: 'date-time' }) first_seen_at!: string;
  @ApiProperty({ format: 'date-time' }) last_seen_at!: string;
  @ApiProperty({ description: 'The site runs this version now' }) current!: boolean;
}

export class ModuleVersionDto {
  @ApiProperty({ format: 'uuid' }) module_id!: string;
  @ApiProperty({ example: 'token' }) module_name!: string;
  @ApiProperty({ example: '8.x-1.13' }) version!: string;
  @ApiProperty({ format: 'date-time', description: 'First seen on any site in reach' }) first_seen_at!: string;
  @ApiProperty({ format: 'date-time', description: 'Last seen on any site in reach' }) last_seen_at!: string;
  @ApiProperty({ description: 'Sites in reach that have run it' }) site_count!: number;
  @ApiProperty({ type: [ModuleVersionSiteDto] }) sites!: ModuleVersionSiteDto[];
}
