import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { SkipRateLimit } from '../common/rate-limit/rate-limit.decorators.js';
import type { FastifyReply as Response } from 'fastify';
import { RawResponse } from '../common/http/raw-response.decorator.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import { Authenticated } from '../auth/auth.decorators.js';
import { Permission } from '../auth/principal.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('metrics')
@SkipRateLimit()
@Controller()
export class MetricsController {
  constructor(private readonly metricsService: MetricsService) {}

  @Get('api/metrics')
  @Authenticated({ permission: Permission.MetricsRead, publicWhen: (config) => config.metrics.public })
  @RawResponse()
  @Header('Cache-Control', 'no-store')
  @Endpoint({ summary: 'Prometheus metrics (text exposition format)', produces: 'text/plain' })
  async render(@Res() response: Response): Promise<void> {
    response.type(this.metricsService.contentType).send(await this.metricsService.render());
  }
}
