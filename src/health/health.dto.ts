import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class DependencyCheckDto {
  @ApiProperty({ enum: ['up', 'down'] })
  status!: 'up' | 'down';

  @ApiProperty({ example: 2.4, description: 'Round trip of the check in milliseconds' })
  latency_ms!: number;

  @ApiPropertyOptional({ example: 'embedded', description: 'Which kind of dependency answered' })
  kind?: string;

  @ApiPropertyOptional({ example: 'connection refused' })
  error?: string;
}

export class HealthChecksDto {
  @ApiProperty({ type: DependencyCheckDto })
  database!: DependencyCheckDto;

  @ApiPropertyOptional({ type: DependencyCheckDto, description: 'Present when REDIS_URL is set' })
  redis?: DependencyCheckDto;
}

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'] })
  status!: 'ok' | 'unavailable';

  @ApiProperty({ example: '0.1.0' })
  version!: string;

  @ApiProperty({ example: 12.5 })
  uptime_seconds!: number;

  @ApiProperty({ type: HealthChecksDto })
  checks!: HealthChecksDto;
}
