import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsObject,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { PaginationQueryDto } from '../../../common/pagination/pagination.js';
import { MACHINE_NAME_PATTERN } from '../../drupal-version.js';
import { IsDrupalVersion } from '../../is-drupal-version.decorator.js';

export const PATCH_RUN_STATUSES = ['succeeded', 'failed', 'partial'] as const;
export type PatchRunStatus = (typeof PATCH_RUN_STATUSES)[number];
export const MAX_UPDATES_PER_RUN = 5000;
export const MAX_NOTES_LENGTH = 4000;

/** An instant with its zone: `2026-03-01T10:15:00Z`, `2026-03-01T11:15:00.250+01:00`. */
export const DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})$/;
/** A filter bound: a calendar day (UTC) or an instant with its zone. */
export const DATE_OR_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2}))?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

const INSTANT_MESSAGE = 'must be an ISO 8601 date-time with a zone, such as 2026-03-01T10:15:00Z';
const BOUND_MESSAGE = 'must be an ISO 8601 date (2026-03-01) or date-time with a zone (2026-03-01T10:15:00Z)';

/**
 * Where a period filter starts and ends, as instants PostgreSQL reads exactly: a date alone covers its whole
 * UTC day, so `to=2026-03-31` includes every run finished that day (microseconds included).
 */
export function periodStart(bound: string): string {
  return DATE_ONLY.test(bound) ? `${bound}T00:00:00Z` : bound;
}

export function periodEnd(bound: string): string {
  return DATE_ONLY.test(bound) ? `${bound}T23:59:59.999999Z` : bound;
}

/**
 * Microseconds since the epoch of an instant in DATE_TIME_WITH_ZONE form. Date.parse keeps milliseconds only and
 * PostgreSQL keeps microseconds, so two instants in the same millisecond must be told apart here before the
 * database's own check does it with an error.
 */
export function epochMicroseconds(instant: string): number {
  const fraction = /\.(\d{1,6})/.exec(instant)?.[1] ?? '';
  return Date.parse(instant) * 1000 + Number(fraction.padEnd(6, '0').slice(3));
}

export class PatchRunUpdateInputDto {
  @ApiProperty({ example: 'token', description: 'Machine name of the module updated' })
  @IsString()
  @Matches(MACHINE_NAME_PATTERN, {
    message: 'module must be a machine name: lower-case letters, digits and underscores, starting with a letter',
  })
  module!: string;

  @ApiProperty({ example: '8.x-1.13' })
  @IsString()
  @IsDrupalVersion()
  from_version!: string;

  @ApiProperty({ example: '8.x-1.14' })
  @IsString()
  @IsDrupalVersion()
  to_version!: string;
}

export class CreatePatchRunDto {
  @ApiProperty({ format: 'date-time', example: '2026-03-01T10:00:00Z' })
  @IsString()
  @Matches(DATE_TIME_WITH_ZONE, { message: `started_at ${INSTANT_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `started_at ${INSTANT_MESSAGE}` })
  started_at!: string;

  @ApiProperty({ format: 'date-time', example: '2026-03-01T10:12:30Z', description: 'Not before started_at, not in the future' })
  @IsString()
  @Matches(DATE_TIME_WITH_ZONE, { message: `finished_at ${INSTANT_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `finished_at ${INSTANT_MESSAGE}` })
  finished_at!: string;

  @ApiProperty({ enum: PATCH_RUN_STATUSES })
  @IsIn(PATCH_RUN_STATUSES)
  status!: PatchRunStatus;

  @ApiProperty({
    type: [PatchRunUpdateInputDto],
    maxItems: MAX_UPDATES_PER_RUN,
    description: 'The modules the run changed, each at most once; may be empty',
  })
  @IsArray()
  @ArrayMaxSize(MAX_UPDATES_PER_RUN)
  // ValidateNested alone lets a nested array through as if it were one entry.
  @IsObject({ each: true, message: 'each entry of updates must be an object' })
  @ValidateNested({ each: true })
  @Type(() => PatchRunUpdateInputDto)
  updates!: PatchRunUpdateInputDto[];

  @ApiPropertyOptional({ maxLength: MAX_NOTES_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_NOTES_LENGTH)
  notes?: string;
}

export class PatchRunUpdateDto {
  @ApiProperty({ example: 'token' }) module!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'Null when the catalog does not know the module' })
  module_id!: string | null;
  @ApiProperty({ example: '8.x-1.13' }) from_version!: string;
  @ApiProperty({ example: '8.x-1.14' }) to_version!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'When OpsDeck first knew an update was available for from_version on this site (null: not known before the run finished)',
  })
  update_known_at!: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'finished_at minus update_known_at, in seconds' })
  lag_seconds!: number | null;
}

export class PatchRunDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) site_id!: string;
  @ApiProperty({ format: 'date-time' }) started_at!: string;
  @ApiProperty({ format: 'date-time' }) finished_at!: string;
  @ApiProperty({ enum: PATCH_RUN_STATUSES }) status!: PatchRunStatus;
  @ApiProperty({ type: String, nullable: true }) notes!: string | null;
  @ApiProperty({ description: 'Number of entries in updates' }) modules_updated!: number;
  @ApiProperty({ type: [PatchRunUpdateDto] }) updates!: PatchRunUpdateDto[];
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class PatchRunQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ example: '2026-01-01', description: 'Runs finished at or after this date (UTC day) or instant' })
  @IsOptional()
  @IsString()
  @Matches(DATE_OR_DATE_TIME, { message: `from ${BOUND_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `from ${BOUND_MESSAGE}` })
  from?: string;

  @ApiPropertyOptional({ example: '2026-03-31', description: 'Runs finished at or before this date (whole UTC day) or instant' })
  @IsOptional()
  @IsString()
  @Matches(DATE_OR_DATE_TIME, { message: `to ${BOUND_MESSAGE}` })
  @IsISO8601({ strict: true }, { message: `to ${BOUND_MESSAGE}` })
  to?: string;

  @ApiPropertyOptional({ enum: PATCH_RUN_STATUSES })
  @IsOptional()
  @IsIn(PATCH_RUN_STATUSES)
  status?: PatchRunStatus;
}
