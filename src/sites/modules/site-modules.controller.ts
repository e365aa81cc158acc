import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, Authenticated } from '../../auth/auth.decorators.js';
import { Permission, type Principal } from '../../auth/principal.js';
import { UuidParam } from '../../common/http/uuid-param.decorator.js';
import { Endpoint } from '../../common/openapi/endpoint.decorator.js';
import { PaginationQueryDto, type Page } from '../../common/pagination/pagination.js';
import { ModuleReportDto, ModuleReportResultDto } from './dto/module-report.dto.js';
import { ModuleVersionDto, SiteModuleDto, SiteModuleQueryDto } from './dto/site-module.dto.js';
import { SiteModulesService } from './site-modules.service.js';

@ApiTags('modules')
@Controller()
export class SiteModulesController {
  constructor(private readonly siteModulesService: SiteModulesService) {}

  @Post('sites/:site_id/modules')
  @Authenticated({ permission: Permission.ModuleReportWrite, audit: { action: 'module_report.create', resource: 'site' } })
  @Endpoint({
    summary: "Report a site's installed modules (replaces its current set; up to 5,000 entries)",
    response: ModuleReportResultDto,
    hasBody: true,
    errors: [404, 413],
  })
  ingestReport(
    @Auth() principal: Principal,
    @UuidParam('site_id') siteId: string,
    @Body() dto: ModuleReportDto,
  ): Promise<ModuleReportResultDto> {
    return this.siteModulesService.ingestReport(principal, siteId, dto);
  }

  @Get('sites/:site_id/modules')
  @Authenticated({ permission: Permission.SiteRead })
  @Endpoint({ summary: "A site's current modules with their update status, most urgent first", response: SiteModuleDto, list: true, errors: [404] })
  listCurrent(
    @Auth() principal: Principal,
    @UuidParam('site_id') siteId: string,
    @Query() query: SiteModuleQueryDto,
  ): Promise<Page<SiteModuleDto>> {
    return this.siteModulesService.listCurrent(principal, siteId, query);
  }

  @Get('modules/:module_id/versions')
  @Authenticated({ permission: Permission.SiteRead })
  @Endpoint({ summary: 'The versions of a module seen on the sites in reach, with their sites', response: ModuleVersionDto, list: true, errors: [404] })
  listVersions(
    @Auth() principal: Principal,
    @UuidParam('module_id') moduleId: string,
    @Query() query: PaginationQueryDto,
  ): Promise<Page<ModuleVersionDto>> {
    return this.siteModulesService.listVersions(principal, moduleId, query);
  }
}
