import { applyDecorators, Controller, Get, Header, Query, Req, Res, type Type } from '@nestjs/common';
import { ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply as Response, FastifyRequest as Request } from 'fastify';
import { Auth, Authenticated } from '../auth/auth.decorators.js';
import { Permission, type Principal } from '../auth/principal.js';
import { wrapInEnvelope } from '../common/http/envelope.interceptor.js';
import { RawResponse } from '../common/http/raw-response.decorator.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import { ItemLinksDto, ItemMetaDto, PageLinksDto, PageMetaDto } from '../common/openapi/error-envelope.dto.js';
import { chooseReportFormat, sendCsv } from './csv.js';
import { ModuleUpdateDto } from './dto/module-updates-report.dto.js';
import { PatchRunReportDto } from './dto/patch-run-report.dto.js';
import { ModuleUpdatesQueryDto, PatchRunReportQueryDto } from './dto/report-query.dto.js';
import { ReportingService } from './reporting.service.js';

/**
 * The reports answer JSON or CSV from one route, so they write their own responses (@RawResponse): the JSON
 * one in the same envelope the interceptor builds for every other route.
 */
@ApiTags('reports')
@Controller('reports')
export class ReportingController {
  constructor(private readonly reportingService: ReportingService) {}

  @Get('module-updates')
  @Authenticated({ permission: Permission.SiteRead })
  @RawResponse()
  @Header('Vary', 'Accept')
  @JsonOrCsv(ModuleUpdateDto, true)
  @Endpoint({
    summary: 'Modules needing updates across the sites in reach: security first, then by sites affected',
    description: 'Paged over modules in JSON; the CSV holds every matching module, one line per site.',
    response: ModuleUpdateDto,
    produces: 'text/csv',
    errors: [404],
  })
  async moduleUpdates(
    @Auth() principal: Principal,
    @Query() query: ModuleUpdatesQueryDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    if (chooseReportFormat(query.format, request) === 'csv') {
      sendCsv(response, await this.reportingService.moduleUpdatesCsv(principal, query));
    } else {
      response.status(200).send(wrapInEnvelope(await this.reportingService.moduleUpdates(principal, query), request));
    }
  }

  @Get('patch-run')
  @Authenticated({ permission: Permission.SiteRead })
  @RawResponse()
  @Header('Vary', 'Accept')
  @JsonOrCsv(PatchRunReportDto, false)
  @Endpoint({
    summary: 'Patch runs over a period: runs, success rate, modules updated, update lag, weekly trend',
    description:
      'Per site and overall. Lag: from when OpsDeck first knew an update was available for the version a run ' +
      'updated from, to the end of the run; median and 90th percentile (percentile_cont). Default period: ' +
      'the last 90 days; at most 731 days.',
    response: PatchRunReportDto,
    produces: 'text/csv',
    errors: [404],
  })
  async patchRuns(
    @Auth() principal: Principal,
    @Query() query: PatchRunReportQueryDto,
    @Req() request: Request,
    @Res() response: Response,
  ): Promise<void> {
    if (chooseReportFormat(query.format, request) === 'csv') {
      sendCsv(response, await this.reportingService.patchRunsCsv(principal, query));
    } else {
      response.status(200).send(wrapInEnvelope(await this.reportingService.patchRuns(principal, query), request));
    }
  }
}

/** Documents both media types of a report's 200; placed above @Endpoint so it is applied last and its content wins. */
function JsonOrCsv(model: Type<unknown>, list: boolean): MethodDecorator {
  const item = { $ref: getSchemaPath(model) };
  return applyDecorators(
    ApiResponse({
      status: 200,
      description: 'JSON envelope by default; CSV (RFC 4180, UTF-8, attachment) with ?format=csv or Accept: text/csv',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['data', 'meta', 'links'],
            properties: {
              data: list ? { type: 'array', items: item } : item,
              meta: { $ref: getSchemaPath(list ? PageMetaDto : ItemMetaDto) },
              links: { $ref: getSchemaPath(list ? PageLinksDto : ItemLinksDto) },
            },
          },
        },
        'text/csv': { schema: { type: 'string' } },
      },
    }),
  );
}
