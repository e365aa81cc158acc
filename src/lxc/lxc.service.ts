import { hostname } from 'node:os';
import { HttpStatus, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../common/errors/app-error.js';
import { Errors } from '../common/errors/errors.js';
import { Page } from '../common/pagination/pagination.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import type { OperationDto } from '../operations/dto/operation.dto.js';
import { OperationsService } from '../operations/operations.service.js';
import { ContainerEvents, type ContainerAction } from './container-events.js';
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
import { LxcHost, type ContainerInfo, type ContainerSource, type PortForward } from './lxc-host.js';

const DEFAULT_TEMPLATE = 'busybox';
type LifecycleAction = 'restart' | 'start' | 'stop';

/**
 * The rules around the host's containers: what is checked before anything runs (400/404/409/422 at once),
 * which actions become operations, and the events each step publishes. LxcHost does the running.
 */
@Injectable()
export class LxcService {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly lxcHost: LxcHost,
    private readonly operationsService: OperationsService,
    private readonly containerEvents: ContainerEvents,
    private readonly auditService: AuditService,
  ) {}

  async list(query: ContainerQueryDto): Promise<Page<ContainerDto>> {
    const needle = query.q?.toLowerCase();
    const containers = (await this.lxcHost.list()).filter(
      (container) =>
        (query.state === undefined || container.state === query.state) &&
        (needle === undefined || container.name.toLowerCase().includes(needle)),
    );
    const page = containers.slice(query.offset, query.offset + query.per_page).map(toContainerDto);
    return new Page(page, containers.length, query);
  }

  async get(name: string): Promise<ContainerDto> {
    return toContainerDto(await this.lxcHost.get(name));
  }

  async images(): Promise<ImageDto[]> {
    const [templates, cached] = await Promise.all([this.lxcHost.listTemplates(), this.lxcHost.listCachedImages()]);
    return [
      ...templates.map((template): ImageDto => ({ kind: 'template', name: template, arch: null, variant: null })),
      ...cached.map(
        (image): ImageDto => ({ kind: 'image', name: `${image.distro}:${image.release}`, arch: image.arch, variant: image.variant }),
      ),
    ];
  }

  async create(principal: Principal, dto: CreateContainerDto): Promise<OperationDto> {
    const source = await this.sourceOf(dto);
    const containers = await this.lxcHost.list();
    if (containers.some((container) => container.name === dto.name)) {
      throw Errors.conflict('CONTAINER.EXISTS', 'name', `A container named ${dto.name} already exists`);
    }
    const address = dto.ipv4?.split('/')[0];
    if (address && containers.some((container) => container.ipv4.includes(address))) {
      throw Errors.conflict('CONTAINER.ADDRESS_TAKEN', 'ipv4', `${address} is already used by another container`);
    }
    const start = dto.start ?? true;
    const input = { image: dto.image ?? null, template: source.kind === 'template' ? source.template : null, ipv4: dto.ipv4 ?? null, start };
    return this.operation(principal, 'create', dto.name, input, (operationId) =>
      this.containerEvents.around('container_create', dto.name, operationId, async () => {
        await this.lxcHost.create(dto.name, source, { ipv4: dto.ipv4 });
        if (start) await this.lxcHost.start(dto.name);
        return toContainerDto(await this.lxcHost.get(dto.name));
      }),
    );
  }

  async remove(principal: Principal, name: string): Promise<OperationDto> {
    await this.lxcHost.get(name);
    return this.operation(principal, 'delete', name, {}, (operationId) =>
      this.containerEvents.around('container_delete', name, operationId, async () => {
        const container = await this.lxcHost.get(name);
        if (container.state !== 'STOPPED') await this.lxcHost.stop(name);
        // destroy removes the container's port forwards too.
        await this.lxcHost.destroy(name);
        return { name, deleted: true };
      }),
    );
  }

  async lifecycle(principal: Principal, name: string, action: LifecycleAction): Promise<OperationDto> {
    await this.lxcHost.get(name);
    const event: ContainerAction = `container_${action}`;
    return this.operation(principal, action, name, {}, (operationId) =>
      this.containerEvents.around(event, name, operationId, async () => {
        const container = await this.lxcHost.get(name);
        if (action !== 'start' && container.state !== 'STOPPED') await this.lxcHost.stop(name);
        if (action !== 'stop' && !(action === 'start' && container.state === 'RUNNING')) await this.lxcHost.start(name);
        return toContainerDto(await this.lxcHost.get(name));
      }),
    );
  }

  async setupNetwork(principal: Principal, dto: NetworkSetupDto): Promise<OperationDto> {
    if (dto.container !== undefined) await this.lxcHost.get(dto.container);
    const target = dto.container ?? 'default';
    return this.operationsService.submit(principal, {
      type: 'network.setup',
      resource: dto.container ? { type: 'container', id: dto.container } : { type: 'network', id: 'default' },
      lockKey: dto.container ? `container:${dto.container}` : 'network:default',
      input: { type: dto.type, parent: dto.parent, mode: dto.mode, container: dto.container ?? null },
      run: ({ operationId }) =>
        this.containerEvents.around('network_setup', target, operationId, async () => {
          await this.lxcHost.setupMacvlan({ parent: dto.parent, mode: dto.mode, container: dto.container });
          return { type: dto.type, parent: dto.parent, mode: dto.mode, container: dto.container ?? null };
        }),
    });
  }

  async deployAuthorizedKeys(principal: Principal, name: string, dto: AuthorizedKeysDto): Promise<OperationDto> {
    const container = await this.lxcHost.get(name);
    if (container.state !== 'RUNNING') {
      throw Errors.rule('CONTAINER.NOT_RUNNING', `${name} must be running to deploy keys (it is ${container.state})`);
    }
    const user = dto.user ?? 'root';
    return this.operationsService.submit(principal, {
      type: 'container.authkey',
      resource: { type: 'container', id: name },
      lockKey: `container:${name}`,
      // Public keys are not secret, but only their count goes on record.
      input: { user, keys: dto.public_keys.length },
      run: ({ operationId }) =>
        this.containerEvents.around('authkey_deploy', name, operationId, async () => {
          const outcome = await this.lxcHost.deployAuthorizedKeys(name, user, dto.public_keys);
          return { user, added: outcome.added, skipped: outcome.skipped };
        }),
    });
  }

  async connect(name: string): Promise<ConnectionDto> {
    const container = await this.lxcHost.get(name);
    const ipv4 = container.ipv4[0] ?? null;
    const user = this.config.lxc.ssh_user;
    await this.auditService.record({ action: 'container.connect', resourceType: 'container', resourceId: name });
    return {
      host: hostname(),
      ipv4,
      ssh_user: user,
      ssh_command: ipv4 ? `ssh ${user}@${ipv4}` : null,
      port_forwards: (await this.lxcHost.listPortForwards(name)).map(toPortForwardDto),
    };
  }

  async listPortForwards(name: string): Promise<PortForwardDto[]> {
    await this.lxcHost.get(name);
    return (await this.lxcHost.listPortForwards(name)).map(toPortForwardDto);
  }

  async addPortForward(name: string, dto: CreatePortForwardDto): Promise<PortForwardDto> {
    const container = await this.lxcHost.get(name);
    await this.refuseWhileBusy(name);
    const containerAddress = container.ipv4[0];
    if (!containerAddress) {
      throw Errors.rule('CONTAINER.NO_ADDRESS', `${name} has no IPv4 address to forward to (is it running?)`);
    }
    const forwards = await this.lxcHost.listPortForwards();
    const taken = forwards.find((forward) => forward.hostPort === dto.host_port && forward.protocol === dto.protocol);
    if (taken) {
      throw Errors.conflict('PORTFORWARD.HOST_PORT_TAKEN', 'host_port', `${dto.protocol} port ${dto.host_port} is already forwarded to ${taken.container}`);
    }
    if (forwards.some((forward) => forward.container === name && forward.rule === dto.name)) {
      throw Errors.conflict('PORTFORWARD.EXISTS', 'name', `${name} already has a port forward named ${dto.name}`);
    }
    const forward: PortForward = {
      container: name,
      rule: dto.name,
      protocol: dto.protocol,
      hostPort: dto.host_port,
      containerAddress,
      containerPort: dto.container_port,
    };
    await this.containerEvents.around('portforward_create', name, null, () => this.lxcHost.addPortForward(forward));
    await this.auditService.record({
      action: 'container.portforward.create',
      resourceType: 'container',
      resourceId: name,
      statusCode: HttpStatus.CREATED,
      changes: { rule: dto.name, protocol: dto.protocol, host_port: dto.host_port, container_port: dto.container_port },
    });
    return toPortForwardDto(forward);
  }

  async removePortForward(name: string, rule: string): Promise<PortForwardDto> {
    await this.lxcHost.get(name);
    await this.refuseWhileBusy(name);
    const forward = (await this.lxcHost.listPortForwards(name)).find((candidate) => candidate.rule === rule);
    if (!forward) throw Errors.notFound('port forward');
    await this.lxcHost.removePortForward(name, rule);
    await this.auditService.record({
      action: 'container.portforward.delete',
      resourceType: 'container',
      resourceId: name,
      changes: { rule },
    });
    return toPortForwardDto(forward);
  }

  private operation(
    principal: Principal,
    action: 'create' | 'delete' | LifecycleAction,
    name: string,
    input: Record<string, unknown>,
    run: (operationId: string) => Promise<unknown>,
  ): Promise<OperationDto> {
    return this.operationsService.submit(principal, {
      type: `container.${action}`,
      resource: { type: 'container', id: name },
      lockKey: `container:${name}`,
      input,
      run: ({ operationId }) => run(operationId),
    });
  }

  private async refuseWhileBusy(name: string): Promise<void> {
    const busy = await this.operationsService.activeOperation(`container:${name}`);
    if (busy) {
      throw new AppError(HttpStatus.CONFLICT, 'OPERATION.RESOURCE_BUSY', `container ${name} has an operation under way`, {
        operation_id: busy.id,
        operation_type: busy.type,
      });
    }
  }

  private async sourceOf(dto: CreateContainerDto): Promise<ContainerSource> {
    if (dto.image !== undefined) {
      const [distro, release] = dto.image.split(':');
      return { kind: 'image', distro, release, arch: hostArch() };
    }
    const template = dto.template ?? DEFAULT_TEMPLATE;
    const templates = await this.lxcHost.listTemplates();
    if (!templates.includes(template)) {
      throw Errors.badReference('CONTAINER.UNKNOWN_TEMPLATE', 'template', `No LXC template named ${template} on this host`);
    }
    return { kind: 'template', template };
  }
}

function hostArch(): string {
  const arches: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', riscv64: 'riscv64' };
  return arches[process.arch] ?? process.arch;
}

function toContainerDto(container: ContainerInfo): ContainerDto {
  return {
    name: container.name,
    state: container.state,
    ipv4: container.ipv4,
    ipv6: container.ipv6,
    pid: container.pid,
    autostart: container.autostart,
    memory_bytes: container.memoryBytes,
  };
}

function toPortForwardDto(forward: PortForward): PortForwardDto {
  return {
    name: forward.rule,
    container: forward.container,
    protocol: forward.protocol,
    host_port: forward.hostPort,
    container_address: forward.containerAddress,
    container_port: forward.containerPort,
  };
}
