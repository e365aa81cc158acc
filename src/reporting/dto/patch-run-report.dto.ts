import { ApiProperty } from '@nestjs/swagger';

/** Run counts and update lag of a group of patch runs (overall, one site, one week). */
export class PatchRunStatsDto {
  @ApiProperty({ example: 14 }) runs!: number;
  @ApiProperty({ example: 12 }) succeeded!: number;
  @ApiProperty({ example: 1 }) failed!: number;
  @ApiProperty({ example: 1 }) partial!: number;
  @ApiProperty({ type: Number, nullable: true, example: 0.8571, description: 'succeeded / runs (0..1, 4 decimals); null without runs' })
  success_rate!: number | null;
  @ApiProperty({ example: 37, description: 'Updates recorded by runs that did not fail' }) modules_updated!: number;
  @ApiProperty({ example: 30, description: 'Updates with a known lag (those whose update was known before the run)' })
  lag_samples!: number;
  @ApiProperty({ type: Number, nullable: true, example: 172800, description: 'Median lag in seconds (percentile_cont 0.5)' })
  lag_median_seconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 864000, description: '90th percentile lag in seconds (percentile_cont 0.9)' })
  lag_p90_seconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 48 }) lag_median_hours!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 240 }) lag_p90_hours!: number | null;
}

export class PatchRunSiteStatsDto extends PatchRunStatsDto {
  @ApiProperty({ format: 'uuid' }) site_id!: string;
  @ApiProperty({ example: 'Marketing site' }) site_name!: string;
  @ApiProperty({ example: 'https://www.example.org' }) site_url!: string;
  @ApiProperty({ format: 'uuid' }) organization_id!: string;
}

export class PatchRunWeekDto extends PatchRunStatsDto {
  @ApiProperty({ format: 'date', example: '2026-03-02', description: 'Monday of the ISO week (UTC)' }) week_start!: string;
}

export class ReportPeriodDto {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
}

export class PatchRunReportDto {
  @ApiProperty({ type: ReportPeriodDto, description: 'Runs that finished inside it count' }) period!: ReportPeriodDto;
  @ApiProperty({ type: PatchRunStatsDto }) overall!: PatchRunStatsDto;
  @ApiProperty({ type: [PatchRunSiteStatsDto], description: 'Sites with runs in the period, by name' })
  sites!: PatchRunSiteStatsDto[];
  @ApiProperty({ type: [PatchRunWeekDto], description: 'Every week the period touches, oldest first; weeks without runs hold zeros' })
  weekly!: PatchRunWeekDto[];
}
