import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { MACHINE_NAME_PATTERN } from '../../drupal-version.js';
import { IsDrupalVersion } from '../../is-drupal-version.decorator.js';

export const MODULE_TYPES = ['module', 'theme', 'profile', 'core'] as const;
export type ModuleType = (typeof MODULE_TYPES)[number];
export const MODULE_STATES = ['enabled', 'disabled'] as const;
export type ModuleState = (typeof MODULE_STATES)[number];
export const MAX_MODULES_PER_REPORT = 5000;

const NAME_MESSAGE = 'must be a machine name: lower-case letters, digits and underscores, starting with a letter';
const PHP_VERSION = /^\d{1,2}\.\d{1,2}(?:\.\d{1,3})?(?:[-+~][A-Za-z0-9.+~-]{1,40})?$/;

export class ReportedModuleDto {
  @ApiProperty({ example: 'token', description: 'Machine name' })
  @IsString()
  @Matches(MACHINE_NAME_PATTERN, { message: `name ${NAME_MESSAGE}` })
  name!: string;

  @ApiPropertyOptional({ example: 'token', description: 'The drupal.org project it ships in; defaults to the name' })
  @IsOptional()
  @IsString()
  @Matches(MACHINE_NAME_PATTERN, { message: `project ${NAME_MESSAGE}` })
  project?: string;

  @ApiProperty({ example: '8.x-1.13' })
  @IsString()
  @IsDrupalVersion()
  version!: string;

  @ApiPropertyOptional({ enum: MODULE_TYPES, default: 'module' })
  @IsOptional()
  @IsIn(MODULE_TYPES)
  type?: ModuleType;

  @ApiPropertyOptional({ enum: MODULE_STATES, default: 'enabled' })
  @IsOptional()
  @IsIn(MODULE_STATES)
  status?: ModuleState;

  @ApiPropertyOptional({ example: '8.x-1.14', description: "What the site's own update check reports as latest" })
  @IsOptional()
  @IsString()
  @IsDrupalVersion()
  latest_version?: string;

  @ApiPropertyOptional({ description: 'Site-reported; used only where OpsDeck knows no release history' })
  @IsOptional()
  @IsBoolean()
  update_available?: boolean;

  @ApiPropertyOptional({ description: 'Site-reported; used only where OpsDeck knows no release history' })
  @IsOptional()
  @IsBoolean()
  security_update?: boolean;
}

export class ModuleReportDto {
  @ApiProperty({ example: '10.2.3', description: 'Drupal core version' })
  @IsString()
  @IsDrupalVersion()
  drupal_version!: string;

  @ApiPropertyOptional({ example: '8.3.4' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(PHP_VERSION, { message: 'php_version must be a PHP version such as 8.3.4' })
  php_version?: string;

  @ApiProperty({ type: [ReportedModuleDto], maxItems: MAX_MODULES_PER_REPORT, description: 'Every installed extension' })
  @IsArray()
  // ValidateNested alone lets a nested array through as if it were one entry.
  @IsObject({ each: true, message: 'each entry of modules must be an object' })
  @ValidateNested({ each: true })
  @Type(() => ReportedModuleDto)
  modules!: ReportedModuleDto[];
}

export class ModuleReportResultDto {
  @ApiProperty({ format: 'uuid' }) site_id!: string;
  @ApiProperty({ format: 'date-time' }) received_at!: string;
  @ApiProperty({ description: 'Modules in the report' }) modules!: number;
  @ApiProperty({ description: 'New to this site (or back after removal)' }) added!: number;
  @ApiProperty({ description: 'Installed version changed' }) version_changed!: number;
  @ApiProperty({ description: 'Installed before, missing from this report' }) removed!: number;
  @ApiProperty({
    description: 'Current modules by update status',
    example: { current: 180, update_available: 12, security_update: 2, unsupported: 0, revoked: 0, unknown: 6 },
  })
  statuses!: Record<string, number>;
}
