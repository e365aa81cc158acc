import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../common/errors/app-error.js';
import { Errors } from '../common/errors/errors.js';
import { requestContext } from '../common/http/request-context.js';
import { Page } from '../common/pagination/pagination.js';
import { RateLimitService } from '../common/rate-limit/rate-limit.service.js';
import type { AppConfig } from '../config/config.schema.js';
import { InjectConfig } from '../config/config.module.js';
import { toOperationError } from '../operations/operation-errors.js';
import { CreateIdracKeyDto, IdracKeyDto, IdracKeyQueryDto } from './dto/idrac-key.dto.js';
import type { IdracKeyEntity } from './entities/idrac-key.entity.js';
import { IdracEvents } from './idrac-events.js';
import { IdracKeysRepository } from './idrac-keys.repository.js';
import { PrivateKeyStore } from './private-key-store.js';
import {
  ECDSA_KEY_BITS,
  generateSshKeyPair,
  InvalidPublicKeyError,
  parsePublicKey,
  RSA_KEY_BITS,
  type ParsedPublicKey,
} from './ssh-key-material.js';

const KEY_GENERATION = 'idrac_key_generation';

@Injectable()
export class IdracKeysService {
  constructor(
    @InjectConfig() config: AppConfig,
    private readonly keysRepository: IdracKeysRepository,
    private readonly privateKeys: PrivateKeyStore,
    private readonly rateLimits: RateLimitService,
    private readonly idracEvents: IdracEvents,
    private readonly auditService: AuditService,
  ) {
    this.rateLimits.register({ name: KEY_GENERATION, points: config.idrac.key_generation_per_minute, durationSeconds: 60 });
  }

  /** Generates a pair (the private half only written to its file), or imports a public key. */
  async create(principal: Principal, dto: CreateIdracKeyDto): Promise<IdracKeyDto> {
    if (dto.public_key !== undefined) return this.import(principal, dto, dto.public_key);
    await this.rateLimits.consume(KEY_GENERATION, principal.id ?? requestContext.current()?.ip ?? 'unknown');
    const type = dto.type ?? 'rsa';
    checkBits(type, dto.bits);
    if (await this.keysRepository.nameTaken(dto.name)) {
      throw Errors.conflict('IDRAC_KEY.NAME_TAKEN', 'name', `A key named ${dto.name} already exists`);
    }
    const id = randomUUID();
    this.idracEvents.publish('idrac_key_generate_start', { operationId: null, status: 'running', message: `generating ${type} key ${dto.name}`, key_id: id });
    try {
      const pair = await generateSshKeyPair({ type, bits: dto.bits, comment: dto.comment });
      await this.privateKeys.write(id, pair.privateKey);
      const key = await this.keysRepository
        .insert({
          id,
          name: dto.name,
          type,
          bits: pair.bits,
          comment: dto.comment ?? null,
          publicKey: pair.publicKey,
          fingerprint: pair.fingerprint,
          hasPrivateKey: true,
          createdBy: principal.id,
        })
        .catch(async (error: unknown) => {
          await this.privateKeys.remove(id);
          throw error;
        });
      await this.auditService.record({
        action: 'idrac.key.create',
        resourceType: 'idrac_key',
        resourceId: id,
        statusCode: HttpStatus.CREATED,
        changes: { name: dto.name, type, bits: pair.bits, fingerprint: pair.fingerprint },
      });
      this.idracEvents.publish('idrac_key_generate_success', { operationId: null, status: 'succeeded', message: `key ${dto.name} generated`, key_id: id, fingerprint: pair.fingerprint });
      return toKeyDto(key);
    } catch (error) {
      const { code, message } = toOperationError(error);
      this.idracEvents.publish('idrac_key_generate_error', { operationId: null, status: 'failed', message, error: { code, message }, key_id: id });
      throw error;
    }
  }

  private async import(principal: Principal, dto: CreateIdracKeyDto, text: string): Promise<IdracKeyDto> {
    const given = (['type', 'bits', 'comment'] as const).filter((field) => dto[field] !== undefined);
    if (given.length > 0) {
      throw new AppError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'an imported public key brings its own type, bits and comment',
        given.map((field) => ({ field, messages: ['must be left out when public_key is given'] })));
    }
    let parsed: ParsedPublicKey;
    try {
      parsed = parsePublicKey(text);
    } catch (error) {
      if (!(error instanceof InvalidPublicKeyError)) throw error;
      throw new AppError(HttpStatus.BAD_REQUEST, 'IDRAC_KEY.INVALID_PUBLIC_KEY', error.message, [
        { field: 'public_key', messages: [`${error.reason}: ${error.message}`] },
      ]);
    }
    if (await this.keysRepository.nameTaken(dto.name)) {
      throw Errors.conflict('IDRAC_KEY.NAME_TAKEN', 'name', `A key named ${dto.name} already exists`);
    }
    const key = await this.keysRepository.insert({
      id: randomUUID(),
      name: dto.name,
      type: parsed.type,
      bits: parsed.bits,
      comment: parsed.comment,
      publicKey: parsed.comment ? `${parsed.canonical} ${parsed.comment}` : parsed.canonical,
      fingerprint: parsed.fingerprint,
      hasPrivateKey: false,
      createdBy: principal.id,
    });
    await this.auditService.record({
      action: 'idrac.key.import',
      resourceType: 'idrac_key',
      resourceId: key.id,
      statusCode: HttpStatus.CREATED,
      changes: { name: dto.name, type: parsed.type, bits: parsed.bits, fingerprint: parsed.fingerprint },
    });
    return toKeyDto(key);
  }

  async list(query: IdracKeyQueryDto): Promise<Page<IdracKeyDto>> {
    const { rows, total } = await this.keysRepository.search(query.q, query.offset, query.per_page);
    return new Page(rows.map(toKeyDto), total, query);
  }

  async get(id: string): Promise<IdracKeyDto> {
    return toKeyDto(await this.find(id));
  }

  /** The live key, for deployments and key logins. */
  async find(id: string): Promise<IdracKeyEntity> {
    const key = await this.keysRepository.findLive(id);
    if (!key) throw Errors.notFound('idrac_key');
    return key;
  }

  async remove(id: string): Promise<IdracKeyDto> {
    const key = await this.find(id);
    const usage = await this.keysRepository.usage(id);
    if (usage.activeDeployments > 0 || usage.servers > 0) {
      throw new AppError(HttpStatus.CONFLICT, 'IDRAC_KEY.IN_USE', 'The key is used by a deployment under way or by servers logging in with it', {
        active_deployments: usage.activeDeployments,
        servers: usage.servers,
      });
    }
    await this.keysRepository.softDelete(id);
    await this.privateKeys.remove(id);
    await this.auditService.record({ action: 'idrac.key.delete', resourceType: 'idrac_key', resourceId: id, changes: { name: key.name } });
    return toKeyDto(key);
  }
}

function checkBits(type: string, bits: number | undefined): void {
  if (bits === undefined) return;
  const allowed: Record<string, readonly number[]> = { rsa: RSA_KEY_BITS, ecdsa: ECDSA_KEY_BITS, ed25519: [] };
  if (!allowed[type].includes(bits)) {
    const message = type === 'ed25519' ? 'bits does not apply to ed25519 keys' : `bits for ${type} must be one of ${allowed[type].join(', ')}`;
    throw new AppError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, [{ field: 'bits', messages: [message] }]);
  }
}

export function toKeyDto(key: IdracKeyEntity): IdracKeyDto {
  return {
    id: key.id,
    name: key.name,
    type: key.type,
    bits: key.bits,
    comment: key.comment,
    public_key: key.publicKey,
    fingerprint: key.fingerprint,
    has_private_key: key.hasPrivateKey,
    created_at: key.createdAt.toISOString(),
  };
}
