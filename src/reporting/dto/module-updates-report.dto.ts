import { ApiProperty } from '@nestjs/swagger';

export const NEEDS_UPDATE_STATUSES = ['security_update', 'revoked', 'unsupported', 'update_available'] as const;
/** Worst first: the order a module's worst status is chosen by. */
export type NeedsUpdateStatus = (typeof NEEDS_UPDATE_STATUSES)[number];

export class ModuleUpdateSiteDto {
  @ApiProperty({ format: 'uuid' }) site_id!: string;
  @ApiProperty({ example: 'Marketing site' }) site_name!: string;
  @ApiProperty({ example: 'https://www.example.org' }) site_url!: string;
  @ApiProperty({ format: 'uuid' }) organization_id!: string;
  @ApiProperty({ example: '8.x-1.13' }) installed_version!: string;
  @ApiProperty({ type: String, nullable: true, example: '8.x-1.14', description: 'The version to move to, where known' })
  recommended_version!: string | null;
  @ApiProperty({ enum: NEEDS_UPDATE_STATUSES }) status!: NeedsUpdateStatus;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'Since when this site has needed the update' })
  update_available_since!: string | null;
}

export class ModuleUpdateDto {
  @ApiProperty({ format: 'uuid' }) module_id!: string;
  @ApiProperty({ example: 'token', description: 'Machine name' }) name!: string;
  @ApiProperty({ example: 'token' }) project!: string;
  @ApiProperty({ description: 'At least one site needs a security update of it' }) security!: boolean;
  @ApiProperty({ enum: NEEDS_UPDATE_STATUSES, description: 'security_update > revoked > unsupported > update_available' })
  worst_status!: NeedsUpdateStatus;
  @ApiProperty({ example: 12 }) sites_affected!: number;
  @ApiProperty({ type: [ModuleUpdateSiteDto], description: 'Worst status first, then by site name' })
  sites!: ModuleUpdateSiteDto[];
}
