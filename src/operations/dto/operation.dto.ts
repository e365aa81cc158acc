import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';
import { OPERATION_STATUSES, type OperationStatus } from '../entities/operation.entity.js';

export class OperationResourceDto {
  @ApiProperty({ example: 'container' }) type!: string;
  @ApiProperty({ example: 'web-01', description: 'A container name, or a deployment id' }) id!: string;
}

export class OperationErrorDto {
  @ApiProperty({ example: 'CONTAINER.NOT_FOUND' }) code!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional({ description: 'The HTTP status the same failure would have had' }) status?: number;
  @ApiPropertyOptional({ example: 'timeout' }) reason?: string;
}

export class OperationRequesterDto {
  @ApiProperty({ enum: ['user', 'api_key', 'bootstrap'] }) kind!: string;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) id!: string | null;
  @ApiProperty({ type: String, nullable: true, description: "Shown to admins and to the requester's own organization" })
  label!: string | null;
}

export class OperationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'container.create' }) type!: string;
  @ApiProperty({ enum: OPERATION_STATUSES }) status!: OperationStatus;
  @ApiProperty({ type: OperationResourceDto }) resource!: OperationResourceDto;
  @ApiProperty({ type: Object, nullable: true, description: 'The latest step: {step, completed, total, message}' })
  progress!: Record<string, unknown> | null;
  @ApiProperty({ type: Object, nullable: true, description: 'What a succeeded operation produced' })
  result!: unknown;
  @ApiProperty({ type: OperationErrorDto, nullable: true }) error!: OperationErrorDto | null;
  @ApiProperty({ description: 'True while it is pending: DELETE /operations/{id} cancels it' }) may_cancel!: boolean;
  @ApiProperty({ type: OperationRequesterDto }) requested_by!: OperationRequesterDto;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) started_at!: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) finished_at!: string | null;
}

export class OperationQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ example: 'container.create' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'type must look like container.create' })
  type?: string;

  @ApiPropertyOptional({ enum: OPERATION_STATUSES })
  @IsOptional()
  @IsIn(OPERATION_STATUSES)
  status?: OperationStatus;

  @ApiPropertyOptional({ example: 'container' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,32}$/, { message: 'resource_type must be lower-case letters' })
  resource_type?: string;

  @ApiPropertyOptional({ example: 'web-01' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  resource_id?: string;
}

export class OperationWaitQueryDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 600, default: 30, description: 'Seconds; capped by configuration' })
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600)
  timeout: number = 30;
}
