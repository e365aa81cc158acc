import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { OperationDto } from '../../operations/dto/operation.dto.js';
import { TAG } from './idrac-server.dto.js';

export const MAX_SERVERS_PER_REQUEST = 5_000;

@ValidatorConstraint({ name: 'keySlot' })
class KeySlotConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return value === 'auto' || (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 4);
  }
  defaultMessage(): string {
    return 'key_slot must be 1, 2, 3, 4 or "auto"';
  }
}

export class ServerSelectionDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  key_id!: string;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'These servers; or give tag' })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SERVERS_PER_REQUEST)
  @IsUUID('all', { each: true })
  server_ids?: string[];

  @ApiPropertyOptional({ description: 'Every server with this tag; or give server_ids' })
  @IsOptional()
  @IsString()
  @Matches(TAG, { message: 'tag: lower-case letters, digits, _ . : -' })
  tag?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, description: 'Servers at once for this request (capped by IDRAC_MAX_CONCURRENCY)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  concurrency?: number;
}

export class CreateDeploymentDto extends ServerSelectionDto {
  @ApiPropertyOptional({ oneOf: [{ type: 'integer', minimum: 1, maximum: 4 }, { type: 'string', enum: ['auto'] }], default: 'auto' })
  @IsOptional()
  @Validate(KeySlotConstraint)
  key_slot?: number | 'auto';
}

export class CreateRevocationDto extends ServerSelectionDto {}

export class DeploymentServerResultDto {
  @ApiProperty({ format: 'uuid' }) server_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() host!: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'skipped', 'failed'] }) outcome!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['auth_failed', 'timeout', 'unreachable', 'host_key_mismatch', 'no_free_slot', 'command_failed'],
  })
  reason!: string | null;
  @ApiProperty({ type: [Number], description: 'The slots written, found or cleared' }) slots!: number[];
  @ApiProperty({ type: String, nullable: true }) message!: string | null;
  @ApiProperty({ type: Number, nullable: true }) duration_ms!: number | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) finished_at!: string | null;
}

export class DeploymentSummaryDto {
  @ApiProperty() total!: number;
  @ApiProperty() pending!: number;
  @ApiProperty() succeeded!: number;
  @ApiProperty() skipped!: number;
  @ApiProperty() failed!: number;
}

export class DeploymentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['deploy', 'revoke'] }) kind!: 'deploy' | 'revoke';
  @ApiProperty({ format: 'uuid' }) key_id!: string;
  @ApiProperty({ example: 'auto' }) key_slot!: string;
  @ApiProperty() concurrency!: number;
  @ApiProperty({ type: OperationDto }) operation!: OperationDto;
  @ApiProperty({ type: DeploymentSummaryDto }) summary!: DeploymentSummaryDto;
  @ApiProperty({ type: [DeploymentServerResultDto] }) servers!: DeploymentServerResultDto[];
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}
