import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsISO8601, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';
import { DATE_OR_DATE_TIME } from '../../sites/patch-runs/dto/patch-run.dto.js';

export const REPORT_FORMATS = ['json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const BOUND_MESSAGE = 'must be an ISO 8601 date (2026-03-01) or date-time with a zone (2026-03-01T10:15:00Z)';

/** Query strings carry text: only the words true and false are booleans. */
const booleanWord = ({ value }: { value: unknown }): unknown => {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
};

export class ModuleUpdatesQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only sites of this organization' })
  @IsOptional()
  @IsUUID()
  organization_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only this site' })
  @IsOptional()
  @IsUUID()
  site_id?: string;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Only modules with a security update, and only the sites that need it' })
  @IsOptional()
  @Transform(booleanWord)
  @IsBoolean()
  security_only?: boolean;

  @ApiPropertyOptional({
    enum: REPORT_FORMATS,
    description: 'csv answers text/csv with every matching row (no paging); Accept: text/csv does the same',
  })
  @IsOptional()
  @IsIn(REPORT_FORMATS)
  format?: ReportFormat;
}

export class PatchRunReportQueryDto {
  @ApiPropertyOptional({ example: '2026-01-01', description: 'Start of the period (a UTC day or an instant); default 90 days before to' })
  @IsOptional()
  @IsString()
  @Matches(DATE_OR_DATE_TIME, { message: `from ${BOUND_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `from ${BOUND_MESSAGE}` })
  from?: string;

  @ApiPropertyOptional({ example: '2026-03-31', description: 'End of the period (a whole UTC day or an instant); default now' })
  @IsOptional()
  @IsString()
  @Matches(DATE_OR_DATE_TIME, { message: `to ${BOUND_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `to ${BOUND_MESSAGE}` })
  to?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only sites of this organization' })
  @IsOptional()
  @IsUUID()
  organization_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only this site' })
  @IsOptional()
  @IsUUID()
  site_id?: string;

  @ApiPropertyOptional({ enum: REPORT_FORMATS, description: 'csv answers text/csv; Accept: text/csv does the same' })
  @IsOptional()
  @IsIn(REPORT_FORMATS)
  format?: ReportFormat;
}
