import { Body, Controller, Delete, Get, HttpStatus, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply as Response } from 'fastify';
import { Auth, Authenticated } from '../auth/auth.decorators.js';
import { Permission, type Principal } from '../auth/principal.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import type { Page } from '../common/pagination/pagination.js';
import { AcceptedOperation, locate } from '../operations/accepted-operation.js';
import type { OperationDto } from '../operations/dto/operation.dto.js';
import { CONTAINER_NAME_PATTERN, PORT_FORWARD_RULE_PATTERN } from './container-name.js';
import { PatternParam } from '../common/http/pattern-param.decorator.js';
import {
  AuthorizedKeysDto,
  ConnectionDto,
  ContainerDto,
  ContainerQueryDto,
  CreateContainerDto,
  CreatePortForwardDto,
  ImageDto,
  NetworkSetupDto,
  PortForwardDto,
} from './dto/container.dto.js';
import { LxcService } from './lxc.service.js';

const AUDIT = 'container';
const NAME = 'a container name (letters, digits, _ . -, at most 63 characters, not starting with - . _)';
const ContainerName = (): ParameterDecorator => PatternParam('name', CONTAINER_NAME_PATTERN, NAME);
const audited = (action: string) => ({ permission: Permission.ContainerWrite, audit: { action, resource: AUDIT } });

@ApiTags('containers')
@Controller()
export class LxcController {
  constructor(private readonly lxcService: LxcService) {}

  @Get('containers')
  @Authenticated({ permission: Permission.ContainerRead })
  @Endpoint({ summary: "The host's LXC containers", response: ContainerDto, list: true, errors: [503, 504] })
  list(@Query() query: ContainerQueryDto): Promise<Page<ContainerDto>> {
    return this.lxcService.list(query);
  }

  @Post('containers')
  @Authenticated(audited('container.create'))
  @AcceptedOperation({ summary: 'Create (and by default start) a container', hasBody: true, errors: [503, 504] })
  async create(
    @Auth() principal: Principal,
    @Body() dto: CreateContainerDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OperationDto> {
    return locate(response, await this.lxcService.create(principal, dto));
  }

  @Get('containers/:name')
  @Authenticated({ permission: Permission.ContainerRead })
  @Endpoint({ summary: 'One container', response: ContainerDto, errors: [404, 503, 504] })
  get(@ContainerName() name: string): Promise<ContainerDto> {
    return this.lxcService.get(name);
  }

  @Delete('containers/:name')
  @Authenticated(audited('container.delete'))
  @AcceptedOperation({ summary: 'Stop and destroy a container with its port forwards', errors: [404, 503, 504] })
  async remove(
    @Auth() principal: Principal,
    @ContainerName() name: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OperationDto> {
    return locate(response, await this.lxcService.remove(principal, name));
  }

  @Post('containers/:name/restart')
  @Authenticated(audited('container.restart'))
  @AcceptedOperation({ summary: 'Restart a container', errors: [404, 503, 504] })
  async restart(@Auth() principal: Principal, @ContainerName() name: string, @Res({ passthrough: true }) response: Response): Promise<OperationDto> {
    return locate(response, await this.lxcService.lifecycle(principal, name, 'restart'));
  }

  @Post('containers/:name/start')
  @Authenticated(audited('container.start'))
  @AcceptedOperation({ summary: 'Start a container', errors: [404, 503, 504] })
  async start(@Auth() principal: Principal, @ContainerName() name: string, @Res({ passthrough: true }) response: Response): Promise<OperationDto> {
    return locate(response, await this.lxcService.lifecycle(principal, name, 'start'));
  }

  @Post('containers/:name/stop')
  @Authenticated(audited('container.stop'))
  @AcceptedOperation({ summary: 'Stop a container', errors: [404, 503, 504] })
  async stop(@Auth() principal: Principal, @ContainerName() name: string, @Res({ passthrough: true }) response: Response): Promise<OperationDto> {
    return locate(response, await this.lxcService.lifecycle(principal, name, 'stop'));
  }

  @Post('containers/:name/connect')
  @Authenticated(audited('container.connect'))
  @Endpoint({ summary: 'How to reach a container: address, SSH command, port forwards', response: ConnectionDto, errors: [404, 503, 504] })
  connect(@ContainerName() name: string): Promise<ConnectionDto> {
    return this.lxcService.connect(name);
  }

  @Post('containers/:name/authkey')
  @Authenticated(audited('container.authkey'))
  @AcceptedOperation({
    summary: "Append public keys to a user's authorized_keys inside a running container (keys already there are skipped)",
    hasBody: true,
    errors: [404, 422, 503, 504],
  })
  async authkey(
    @Auth() principal: Principal,
    @ContainerName() name: string,
    @Body() dto: AuthorizedKeysDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OperationDto> {
    return locate(response, await this.lxcService.deployAuthorizedKeys(principal, name, dto));
  }

  @Post('containers/:name/portforward')
  @Authenticated(audited('container.portforward.create'))
  @Endpoint({
    summary: 'Forward a host port to the container (nftables DNAT)',
    response: PortForwardDto,
    status: HttpStatus.CREATED,
    hasBody: true,
    errors: [404, 409, 422, 503, 504],
  })
  addPortForward(@ContainerName() name: string, @Body() dto: CreatePortForwardDto): Promise<PortForwardDto> {
    return this.lxcService.addPortForward(name, dto);
  }

  @Get('containers/:name/portforward')
  @Authenticated({ permission: Permission.ContainerRead })
  @Endpoint({ summary: "A container's port forwards", response: PortForwardDto, errors: [404, 503, 504] })
  listPortForwards(@ContainerName() name: string): Promise<PortForwardDto[]> {
    return this.lxcService.listPortForwards(name);
  }

  @Delete('containers/:name/portforward/:rule')
  @Authenticated(audited('container.portforward.delete'))
  @Endpoint({ summary: 'Remove a port forward', response: PortForwardDto, errors: [404, 409, 503, 504] })
  removePortForward(
    @ContainerName() name: string,
    @PatternParam('rule', PORT_FORWARD_RULE_PATTERN, 'a port-forward rule name') rule: string,
  ): Promise<PortForwardDto> {
    return this.lxcService.removePortForward(name, rule);
  }

  @Get('images')
  @Authenticated({ permission: Permission.ContainerRead })
  @Endpoint({ summary: 'Local templates and cached download images', response: ImageDto, errors: [503, 504] })
  images(): Promise<ImageDto[]> {
    return this.lxcService.images();
  }

  @Post('network/setup')
  @Authenticated({ permission: Permission.ContainerWrite, audit: { action: 'network.setup', resource: 'network' } })
  @AcceptedOperation({ summary: 'Configure macvlan networking for a container or for new containers', hasBody: true, errors: [404, 503, 504] })
  async setupNetwork(
    @Auth() principal: Principal,
    @Body() dto: NetworkSetupDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OperationDto> {
    return locate(response, await this.lxcService.setupNetwork(principal, dto));
  }
}
