import { ApiProperty } from '@nestjs/swagger';
import { PaginationQueryDto } from '../../../common/pagination/pagination.js';
import { PROJECT_STATUSES, RELEASE_STATUSES, type ProjectStatus, type ReleaseStatus } from '../release-history.parser.js';

/** What one imported project amounts to. */
export class ReleaseHistoryImportDto {
  @ApiProperty({ example: 'token', description: 'The project machine name (short_name)' }) project!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Token' }) title!: string | null;
  @ApiProperty({ enum: PROJECT_STATUSES }) project_status!: ProjectStatus;
  @ApiProperty({ example: 24, description: 'Releases stored; they replace the ones imported before' }) releases!: number;
  @ApiProperty({ type: [String], example: ['8.x-1.', '2.0.'] }) supported_branches!: string[];
  @ApiProperty({ example: 120, description: "Sites' modules of this project whose computed status changed" })
  sites_reevaluated!: number;
}

export class ReleaseDto {
  @ApiProperty({ example: 'token' }) project!: string;
  @ApiProperty({ example: '8.x-1.13' }) version!: string;
  @ApiProperty({ enum: RELEASE_STATUSES }) status!: ReleaseStatus;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) released_at!: string | null;
  @ApiProperty({ type: [String], example: ['Security update'], description: 'Its "Release type" terms' })
  release_types!: string[];
  @ApiProperty({ type: Boolean, nullable: true, description: "Covered by Drupal's security advisory policy" })
  security_covered!: boolean | null;
  @ApiProperty({ description: 'A dev snapshot (x-dev or +N-dev)' }) is_dev!: boolean;
  @ApiProperty({ description: 'An alpha, beta, rc or unstable release' }) is_pre_release!: boolean;
}

export class ProjectReleasesQueryDto extends PaginationQueryDto {}
