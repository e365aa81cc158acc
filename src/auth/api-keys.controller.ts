import { Body, Controller, Delete, Get, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { UuidParam } from '../common/http/uuid-param.decorator.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import { type Page, PaginationQueryDto } from '../common/pagination/pagination.js';
import { ApiKeysService } from './api-keys.service.js';
import { Auth, Authenticated } from './auth.decorators.js';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto.js';
import { Permission, type Principal } from './principal.js';

@ApiTags('api-keys')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeysService: ApiKeysService) {}

  @Post()
  @Authenticated({ permission: Permission.ApiKeyManage, audit: { action: 'api_key.create', resource: 'api_key' } })
  @Endpoint({
    summary: 'Create an API key; the key is in the response this once',
    response: CreatedApiKeyDto,
    status: HttpStatus.CREATED,
    hasBody: true,
  })
  create(@Auth() principal: Principal, @Body() dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.apiKeysService.create(principal, dto);
  }

  @Get()
  @Authenticated({ permission: Permission.ApiKeyManage })
  @Endpoint({ summary: 'List API keys (never their secrets)', response: ApiKeyDto, list: true })
  list(@Query() query: PaginationQueryDto): Promise<Page<ApiKeyDto>> {
    return this.apiKeysService.list(query);
  }

  @Delete(':id')
  @Authenticated({ permission: Permission.ApiKeyManage, audit: { action: 'api_key.revoke', resource: 'api_key' } })
  @Endpoint({ summary: 'Revoke an API key; it stops working at once', response: ApiKeyDto, errors: [404] })
  revoke(@UuidParam('id') id: string): Promise<ApiKeyDto> {
    return this.apiKeysService.revoke(id);
  }
}
