import { performance } from 'node:perf_hooks';
import { HttpStatus, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../common/errors/app-error.js';
import { Errors } from '../common/errors/errors.js';
import { Page } from '../common/pagination/pagination.js';
import { SecretBox } from '../common/secrets/secret-box.js';
import {
  CreateIdracServerDto,
  IdracServerDto,
  IdracServerQueryDto,
  ServerTestDto,
  UpdateIdracServerDto,
} from './dto/idrac-server.dto.js';
import type { IdracServerEntity } from './entities/idrac-server.entity.js';
import { IdracConnector, PASSWORD_PURPOSE } from './idrac-ssh.provider.js';
import { IdracKeysRepository } from './idrac-keys.repository.js';
import { IdracServersRepository, type IdracServerChanges } from './idrac-servers.repository.js';
import { RacadmClient, RacadmError } from './racadm.js';
import { IdracSshError } from './ssh/idrac-ssh-error.js';
import { TargetPolicy } from './target-policy.js';

@Injectable()
export class IdracServersService {
  constructor(
    private readonly serversRepository: IdracServersRepository,
    private readonly keysRepository: IdracKeysRepository,
    private readonly targetPolicy: TargetPolicy,
    private readonly secrets: SecretBox,
    private readonly connector: IdracConnector,
    private readonly auditService: AuditService,
  ) {}

  async create(principal: Principal, dto: CreateIdracServerDto): Promise<IdracServerDto> {
    if ((dto.password === undefined) === (dto.auth_key_id === undefined)) {
      throw credentialsError('give either password or auth_key_id');
    }
    this.checkTarget(dto.host);
    if (dto.auth_key_id) await this.checkLoginKey(dto.auth_key_id);
    if (await this.serversRepository.nameTaken(dto.name, null)) {
      throw Errors.conflict('IDRAC_SERVER.NAME_TAKEN', 'name', `A server named ${dto.name} already exists`);
    }
    const server = await this.serversRepository.insert({
      name: dto.name,
      host: dto.host,
      port: dto.port ?? 22,
      username: dto.username,
      passwordCiphertext: dto.password === undefined ? null : this.secrets.seal(dto.password, PASSWORD_PURPOSE),
      authKeyId: dto.auth_key_id ?? null,
      userIndex: dto.user_index ?? 2,
      tags: [...new Set(dto.tags ?? [])],
      createdBy: principal.id,
    });
    await this.auditService.record({
      action: 'idrac.server.create',
      resourceType: 'idrac_server',
      resourceId: server.id,
      statusCode: HttpStatus.CREATED,
      changes: { name: dto.name, host: dto.host, port: server.port, username: dto.username, password: dto.password, auth_key_id: dto.auth_key_id ?? null },
    });
    return toServerDto(server);
  }

  async list(query: IdracServerQueryDto): Promise<Page<IdracServerDto>> {
    const { rows, total } = await this.serversRepository.search({ tag: query.tag, q: query.q, offset: query.offset, limit: query.per_page });
    return new Page(rows.map(toServerDto), total, query);
  }

  async get(id: string): Promise<IdracServerDto> {
    return toServerDto(await this.find(id));
  }

  async find(id: string): Promise<IdracServerEntity> {
    const server = await this.serversRepository.findLive(id);
    if (!server) throw Errors.notFound('idrac_server');
    return server;
  }

  async update(id: string, dto: UpdateIdracServerDto): Promise<IdracServerDto> {
    const server = await this.find(id);
    if (dto.password !== undefined && dto.auth_key_id !== undefined) throw credentialsError('give either password or auth_key_id, not both');
    if (dto.host !== undefined) this.checkTarget(dto.host);
    if (dto.auth_key_id !== undefined) await this.checkLoginKey(dto.auth_key_id);
    if (dto.name !== undefined && (await this.serversRepository.nameTaken(dto.name, id))) {
      throw Errors.conflict('IDRAC_SERVER.NAME_TAKEN', 'name', `A server named ${dto.name} already exists`);
    }
    const changes: IdracServerChanges = {
      ...(dto.name !== undefined && { name: dto.name }),
      ...(dto.host !== undefined && { host: dto.host }),
      ...(dto.port !== undefined && { port: dto.port }),
      ...(dto.username !== undefined && { username: dto.username }),
      ...(dto.user_index !== undefined && { userIndex: dto.user_index }),
      ...(dto.tags !== undefined && { tags: [...new Set(dto.tags)] }),
      ...(dto.password !== undefined && { passwordCiphertext: this.secrets.seal(dto.password, PASSWORD_PURPOSE), authKeyId: null }),
      ...(dto.auth_key_id !== undefined && { authKeyId: dto.auth_key_id, passwordCiphertext: null }),
      // A new host is a new machine: its key is pinned again on first contact unless one is given.
      ...((dto.host_key_fingerprint !== undefined || (dto.host !== undefined && dto.host !== server.host)) && {
        hostKeyFingerprint: dto.host_key_fingerprint ?? null,
      }),
    };
    await this.serversRepository.update(id, changes);
    await this.auditService.record({
      action: 'idrac.server.update',
      resourceType: 'idrac_server',
      resourceId: id,
      changes: { ...dto },
    });
    return toServerDto(await this.find(id));
  }

  async remove(id: string): Promise<IdracServerDto> {
    const server = await this.find(id);
    await this.serversRepository.softDelete(id);
    await this.auditService.record({ action: 'idrac.server.delete', resourceType: 'idrac_server', resourceId: id, changes: { name: server.name } });
    return toServerDto(server);
  }

  /** Connects, logs in and asks racadm for its version; a failure is an answer here, not an error. */
  async test(id: string): Promise<ServerTestDto> {
    const server = await this.find(id);
    const started = performance.now();
    let fingerprint = server.hostKeyFingerprint;
    let loggedIn = false;
    let answer: ServerTestDto;
    try {
      const version = await this.connector.withSession(server, async (session) => {
        loggedIn = true;
        fingerprint = session.hostKeyFingerprint;
        if (session.firstContact) await this.serversRepository.pinHostKey(server.id, session.hostKeyFingerprint);
        return new RacadmClient(session, server.userIndex).testConnection();
      });
      answer = {
        reachable: true,
        auth_ok: true,
        latency_ms: Math.round(performance.now() - started),
        racadm_version: version.idracVersion ?? null,
        host_key_fingerprint: fingerprint,
        reason: null,
        message: null,
      };
    } catch (error) {
      if (!(error instanceof IdracSshError || error instanceof RacadmError)) throw error;
      const presented = error instanceof IdracSshError ? error.presentedHostKey : null;
      answer = {
        // It answered SSH if we logged in, or if it refused our credentials or showed an unexpected host key.
        reachable: loggedIn || error.reason === 'auth_failed' || error.reason === 'host_key_mismatch',
        auth_ok: loggedIn,
        latency_ms: null,
        racadm_version: null,
        host_key_fingerprint: presented ?? fingerprint,
        reason: error.reason,
        message: error.message,
      };
    }
    await this.auditService.record({
      action: 'idrac.server.test',
      resourceType: 'idrac_server',
      resourceId: id,
      outcome: answer.reason === null ? 'success' : 'failure',
      changes: { reason: answer.reason },
    });
    return answer;
  }

  private checkTarget(host: string): void {
    if (!this.targetPolicy.allows(host)) {
      throw new AppError(HttpStatus.BAD_REQUEST, 'IDRAC_SERVER.TARGET_NOT_ALLOWED', `${host} is not in the allowed iDRAC targets`, [
        { field: 'host', messages: ['is not in IDRAC_ALLOWED_TARGETS'] },
      ]);
    }
  }

  private async checkLoginKey(keyId: string): Promise<void> {
    const key = await this.keysRepository.findLive(keyId);
    if (!key) throw Errors.badReference('IDRAC_KEY.UNKNOWN', 'auth_key_id', `No key with id ${keyId}`);
    if (!key.hasPrivateKey) {
      throw Errors.badReference('IDRAC_KEY.NO_PRIVATE_KEY', 'auth_key_id', 'An imported public key cannot be used to log in');
    }
  }
}

function credentialsError(message: string): AppError {
  return new AppError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, [
    { field: 'password', messages: [message] },
    { field: 'auth_key_id', messages: [message] },
  ]);
}

export function toServerDto(server: IdracServerEntity): IdracServerDto {
  return {
    id: server.id,
    name: server.name,
    host: server.host,
    port: server.port,
    username: server.username,
    auth: server.authKeyId ? 'key' : 'password',
    auth_key_id: server.authKeyId,
    user_index: server.userIndex,
    tags: server.tags,
    host_key_fingerprint: server.hostKeyFingerprint,
    created_at: server.createdAt.toISOString(),
    updated_at: server.updatedAt.toISOString(),
  };
}
