import { Body, Controller, Delete, Get, HttpStatus, Post, Put, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply as Response } from 'fastify';
import { Auth, Authenticated } from '../auth/auth.decorators.js';
import { Permission, type Principal } from '../auth/principal.js';
import { UuidParam } from '../common/http/uuid-param.decorator.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import type { Page } from '../common/pagination/pagination.js';
import { AcceptedOperation, locate } from '../operations/accepted-operation.js';
import type { OperationDto } from '../operations/dto/operation.dto.js';
import { CreateDeploymentDto, CreateRevocationDto, DeploymentDto } from './dto/deployment.dto.js';
import { CreateIdracKeyDto, IdracKeyDto, IdracKeyQueryDto } from './dto/idrac-key.dto.js';
import {
  CreateIdracServerDto,
  IdracServerDto,
  IdracServerQueryDto,
  ServerTestDto,
  UpdateIdracServerDto,
} from './dto/idrac-server.dto.js';
import { DeploymentsService } from './deployments.service.js';
import { IdracKeysService } from './idrac-keys.service.js';
import { IdracServersService } from './idrac-servers.service.js';

const write = (action: string, resource: string) => ({ permission: Permission.IdracWrite, audit: { action, resource } });
const READ = { permission: Permission.IdracRead };

@ApiTags('idrac')
@Controller('idrac')
export class IdracController {
  constructor(
    private readonly keysService: IdracKeysService,
    private readonly serversService: IdracServersService,
    private readonly deploymentsService: DeploymentsService,
  ) {}

  @Post('keys')
  @Authenticated(write('idrac.key.create', 'idrac_key'))
  @Endpoint({
    summary: 'Generate a key pair; the public key comes back, the private key never leaves the server',
    response: IdracKeyDto,
    status: HttpStatus.CREATED,
    hasBody: true,
    errors: [409, 429],
  })
  createKey(@Auth() principal: Principal, @Body() dto: CreateIdracKeyDto): Promise<IdracKeyDto> {
    return this.keysService.create(principal, dto);
  }

  @Get('keys')
  @Authenticated(READ)
  @Endpoint({ summary: 'Generated keys', response: IdracKeyDto, list: true })
  listKeys(@Query() query: IdracKeyQueryDto): Promise<Page<IdracKeyDto>> {
    return this.keysService.list(query);
  }

  @Get('keys/:id')
  @Authenticated(READ)
  @Endpoint({ summary: 'One key', response: IdracKeyDto, errors: [404] })
  getKey(@UuidParam('id') id: string): Promise<IdracKeyDto> {
    return this.keysService.get(id);
  }

  @Delete('keys/:id')
  @Authenticated(write('idrac.key.delete', 'idrac_key'))
  @Endpoint({ summary: 'Delete a key and its private key file (refused while in use)', response: IdracKeyDto, errors: [404, 409] })
  deleteKey(@UuidParam('id') id: string): Promise<IdracKeyDto> {
    return this.keysService.remove(id);
  }

  @Post('servers')
  @Authenticated(write('idrac.server.create', 'idrac_server'))
  @Endpoint({ summary: 'Register an iDRAC', response: IdracServerDto, status: HttpStatus.CREATED, hasBody: true, errors: [409] })
  createServer(@Auth() principal: Principal, @Body() dto: CreateIdracServerDto): Promise<IdracServerDto> {
    return this.serversService.create(principal, dto);
  }

  @Get('servers')
  @Authenticated(READ)
  @Endpoint({ summary: 'iDRACs, filtered by tag or text', response: IdracServerDto, list: true })
  listServers(@Query() query: IdracServerQueryDto): Promise<Page<IdracServerDto>> {
    return this.serversService.list(query);
  }

  @Get('servers/:id')
  @Authenticated(READ)
  @Endpoint({ summary: 'One iDRAC', response: IdracServerDto, errors: [404] })
  getServer(@UuidParam('id') id: string): Promise<IdracServerDto> {
    return this.serversService.get(id);
  }

  @Put('servers/:id')
  @Authenticated(write('idrac.server.update', 'idrac_server'))
  @Endpoint({ summary: 'Change an iDRAC (host_key_fingerprint re-pins its host key)', response: IdracServerDto, hasBody: true, errors: [404, 409] })
  updateServer(@UuidParam('id') id: string, @Body() dto: UpdateIdracServerDto): Promise<IdracServerDto> {
    return this.serversService.update(id, dto);
  }

  @Delete('servers/:id')
  @Authenticated(write('idrac.server.delete', 'idrac_server'))
  @Endpoint({ summary: 'Remove an iDRAC', response: IdracServerDto, errors: [404] })
  deleteServer(@UuidParam('id') id: string): Promise<IdracServerDto> {
    return this.serversService.remove(id);
  }

  @Post('servers/:id/test')
  @Authenticated(write('idrac.server.test', 'idrac_server'))
  @Endpoint({ summary: 'Connect, log in and read the racadm version; a failure is reported with its reason', response: ServerTestDto, errors: [404] })
  testServer(@UuidParam('id') id: string): Promise<ServerTestDto> {
    return this.serversService.test(id);
  }

  @Post('deployments')
  @Authenticated(write('idrac.deploy', 'idrac_deployment'))
  @AcceptedOperation({ summary: 'Deploy a public key to iDRACs by id or tag', hasBody: true })
  async deploy(
    @Auth() principal: Principal,
    @Body() dto: CreateDeploymentDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OperationDto> {
    return locate(response, await this.deploymentsService.deploy(principal, dto));
  }

  @Get('deployments/:id')
  @Authenticated(READ)
  @Endpoint({ summary: 'A deployment or revocation with its per-server results', response: DeploymentDto, errors: [404] })
  getDeployment(@Auth() principal: Principal, @UuidParam('id') id: string): Promise<DeploymentDto> {
    return this.deploymentsService.get(principal, id);
  }

  @Post('revocations')
  @Authenticated(write('idrac.revoke', 'idrac_deployment'))
  @AcceptedOperation({ summary: 'Remove a public key from iDRACs by id or tag', hasBody: true })
  async revoke(
    @Auth() principal: Principal,
    @Body() dto: CreateRevocationDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OperationDto> {
    return locate(response, await this.deploymentsService.revoke(principal, dto));
  }
}
