import { Body, Controller, Delete, Get, HttpStatus, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, Authenticated } from '../auth/auth.decorators.js';
import { Permission, type Principal } from '../auth/principal.js';
import { UuidParam } from '../common/http/uuid-param.decorator.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import type { Page } from '../common/pagination/pagination.js';
import {
  CreateOrganizationDto,
  OrganizationDto,
  OrganizationQueryDto,
  UpdateOrganizationDto,
} from './dto/organization.dto.js';
import { OrganizationsService } from './organizations.service.js';

const AUDIT = 'organization';

@ApiTags('organizations')
@Controller('organizations')
export class OrganizationsController {
  constructor(private readonly organizationsService: OrganizationsService) {}

  @Post()
  @Authenticated({ permission: Permission.OrganizationWrite, audit: { action: 'organization.create', resource: AUDIT } })
  @Endpoint({ summary: 'Create an organization', response: OrganizationDto, status: HttpStatus.CREATED, hasBody: true, errors: [409] })
  create(@Auth() principal: Principal, @Body() dto: CreateOrganizationDto): Promise<OrganizationDto> {
    return this.organizationsService.create(principal, dto);
  }

  @Get()
  @Authenticated({ permission: Permission.OrganizationRead })
  @Endpoint({ summary: "List organizations (non-admins see only their own)", response: OrganizationDto, list: true })
  list(@Auth() principal: Principal, @Query() query: OrganizationQueryDto): Promise<Page<OrganizationDto>> {
    return this.organizationsService.list(principal, query);
  }

  @Get(':org_id')
  @Authenticated({ permission: Permission.OrganizationRead })
  @Endpoint({ summary: 'One organization', response: OrganizationDto, errors: [404] })
  get(@Auth() principal: Principal, @UuidParam('org_id') id: string): Promise<OrganizationDto> {
    return this.organizationsService.get(principal, id);
  }

  @Put(':org_id')
  @Authenticated({ permission: Permission.OrganizationWrite, audit: { action: 'organization.update', resource: AUDIT } })
  @Endpoint({ summary: 'Rename or describe an organization', response: OrganizationDto, hasBody: true, errors: [404, 409] })
  update(
    @Auth() principal: Principal,
    @UuidParam('org_id') id: string,
    @Body() dto: UpdateOrganizationDto,
  ): Promise<OrganizationDto> {
    return this.organizationsService.update(principal, id, dto);
  }

  @Delete(':org_id')
  @Authenticated({ permission: Permission.OrganizationWrite, audit: { action: 'organization.delete', resource: AUDIT } })
  @Endpoint({
    summary: 'Soft-delete an organization with its users, sites and API keys',
    response: OrganizationDto,
    errors: [404, 422],
  })
  remove(@Auth() principal: Principal, @UuidParam('org_id') id: string): Promise<OrganizationDto> {
    return this.organizationsService.remove(principal, id);
  }
}
