import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { SkipRateLimit } from '../common/rate-limit/rate-limit.decorators.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import { HealthDto } from './health.dto.js';
import { HealthService } from './health.service.js';

/** Load balancers and orchestrators poll this: public and never rate limited. */
@ApiTags('health')
@SkipRateLimit()
@Public()
@Controller()
export class HealthController {
  constructor(private readonly healthService: HealthService) {}

  @Get('api/health')
  @Endpoint({ summary: 'Service health: version, uptime, database and Redis', response: HealthDto, errors: [503]})
  check(): Promise<HealthDto> {
    return this.healthService.check();
  }

  @Get('health')
  @Endpoint({ summary: 'Service health under the versioned prefix (same as /api/health)', response: HealthDto, errors: [503]})
  checkVersioned(): Promise<HealthDto> {
    return this.healthService.check();
  }
}
