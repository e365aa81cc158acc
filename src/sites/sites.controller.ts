import { Body, Controller, Delete, Get, HttpStatus, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, Authenticated } from '../auth/auth.decorators.js';
import { Permission, type Principal } from '../auth/principal.js';
import { UuidParam } from '../common/http/uuid-param.decorator.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import type { Page } from '../common/pagination/pagination.js';
import { CreateSiteDto, SiteDto, SiteQueryDto, UpdateSiteDto } from './dto/site.dto.js';
import { SitesService } from './sites.service.js';

const AUDIT = 'site';

@ApiTags('sites')
@Controller('sites')
export class SitesController {
  constructor(private readonly sitesService: SitesService) {}

  @Post()
  @Authenticated({ permission: Permission.SiteWrite, audit: { action: 'site.create', resource: AUDIT } })
  @Endpoint({ summary: 'Register a Drupal site', response: SiteDto, status: HttpStatus.CREATED, hasBody: true, errors: [409] })
  create(@Auth() principal: Principal, @Body() dto: CreateSiteDto): Promise<SiteDto> {
    return this.sitesService.create(principal, dto);
  }

  @Get()
  @Authenticated({ permission: Permission.SiteRead })
  @Endpoint({ summary: 'List the sites in reach, by name', response: SiteDto, list: true })
  list(@Auth() principal: Principal, @Query() query: SiteQueryDto): Promise<Page<SiteDto>> {
    return this.sitesService.list(principal, query);
  }

  @Get(':site_id')
  @Authenticated({ permission: Permission.SiteRead })
  @Endpoint({ summary: 'One site', response: SiteDto, errors: [404] })
  get(@Auth() principal: Principal, @UuidParam('site_id') id: string): Promise<SiteDto> {
    return this.sitesService.get(principal, id);
  }

  @Put(':site_id')
  @Authenticated({ permission: Permission.SiteWrite, audit: { action: 'site.update', resource: AUDIT } })
  @Endpoint({ summary: 'Rename, re-address or describe a site', response: SiteDto, hasBody: true, errors: [404, 409] })
  update(@Auth() principal: Principal, @UuidParam('site_id') id: string, @Body() dto: UpdateSiteDto): Promise<SiteDto> {
    return this.sitesService.update(principal, id, dto);
  }

  @Delete(':site_id')
  @Authenticated({ permission: Permission.SiteWrite, audit: { action: 'site.delete', resource: AUDIT } })
  @Endpoint({ summary: 'Soft-delete a site and revoke the API keys limited to it', response: SiteDto, errors: [404] })
  remove(@Auth() principal: Principal, @UuidParam('site_id') id: string): Promise<SiteDto> {
    return this.sitesService.remove(principal, id);
  }
}
