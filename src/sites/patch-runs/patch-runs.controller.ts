import { Body, Controller, Get, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, Authenticated } from '../../auth/auth.decorators.js';
import { Permission, type Principal } from '../../auth/principal.js';
import { UuidParam } from '../../common/http/uuid-param.decorator.js';
import { Endpoint } from '../../common/openapi/endpoint.decorator.js';
import type { Page } from '../../common/pagination/pagination.js';
import { CreatePatchRunDto, PatchRunDto, PatchRunQueryDto } from './dto/patch-run.dto.js';
import { PatchRunsService } from './patch-runs.service.js';

@ApiTags('patch runs')
@Controller('sites/:site_id/patch-run')
export class PatchRunsController {
  constructor(private readonly patchRunsService: PatchRunsService) {}

  @Post()
  @Authenticated({ permission: Permission.PatchRunWrite, audit: { action: 'patch_run.create', resource: 'patch_run' } })
  @Endpoint({
    summary: 'Record a patch run and the module updates it applied',
    description:
      'Each update is matched to the catalog module of that name and to when OpsDeck first knew an update was ' +
      'available for from_version on this site; the lag is measured from then to finished_at.',
    response: PatchRunDto,
    status: HttpStatus.CREATED,
    hasBody: true,
    errors: [404],
  })
  record(
    @Auth() principal: Principal,
    @UuidParam('site_id') siteId: string,
    @Body() dto: CreatePatchRunDto,
  ): Promise<PatchRunDto> {
    return this.patchRunsService.record(principal, siteId, dto);
  }

  @Get()
  @Authenticated({ permission: Permission.SiteRead })
  @Endpoint({ summary: "A site's patch runs, newest first", response: PatchRunDto, list: true, errors: [404] })
  list(
    @Auth() principal: Principal,
    @UuidParam('site_id') siteId: string,
    @Query() query: PatchRunQueryDto,
  ): Promise<Page<PatchRunDto>> {
    return this.patchRunsService.list(principal, siteId, query);
  }
}
