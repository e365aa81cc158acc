import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { Errors } from '../common/errors/errors.js';
import { Page, type PaginationQueryDto } from '../common/pagination/pagination.js';
import { OrganizationsRepository } from '../organizations/organizations.repository.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto.js';
import type { ApiKeyEntity } from './entities/api-key.entity.js';
import { PrincipalCache } from './principal-cache.js';
import type { Principal } from './principal.js';
import { API_KEY_PREFIX, generateSecretToken, sha256Hex, VISIBLE_KEY_LENGTH } from './secret-tokens.js';

/** Machine credentials: the key is shown once, only its SHA-256 is stored. */
@Injectable()
export class ApiKeysService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly apiKeysRepository: ApiKeysRepository,
    private readonly organizationsRepository: OrganizationsRepository,
    private readonly auditService: AuditService,
    private readonly principalCache: PrincipalCache,
  ) {}

  async create(principal: Principal, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const organizationId = dto.organization_id ?? principal.organizationId;
    if (!organizationId) {
      throw Errors.badReference('API_KEY.ORGANIZATION_REQUIRED', 'organization_id', 'organization_id is required');
    }
    const key = generateSecretToken(API_KEY_PREFIX);
    return this.dataSource.transaction(async (manager) => {
      if (!(await this.organizationsRepository.findLiveById(organizationId, manager))) {
        throw Errors.badReference('API_KEY.ORGANIZATION_NOT_FOUND', 'organization_id', 'No such organization');
      }
      if (dto.site_id && !(await this.apiKeysRepository.siteInOrganization(dto.site_id, organizationId, manager))) {
        throw Errors.badReference('API_KEY.SITE_NOT_FOUND', 'site_id', "No such site in the key's organization");
      }
      const created = await this.apiKeysRepository.insert(
        {
          name: dto.name,
          prefix: key.slice(0, VISIBLE_KEY_LENGTH),
          keyHash: sha256Hex(key),
          role: dto.role ?? 'viewer',
          organizationId,
          siteId: dto.site_id ?? null,
          expiresAt: dto.expires_at ?? null,
          createdBy: principal.kind === 'user' ? principal.id : null,
        },
        manager,
      );
      await this.auditService.record(
        {
          action: 'api_key.create',
          resourceType: 'api_key',
          resourceId: created.id,
          statusCode: 201,
          changes: { name: created.name, prefix: created.prefix, role: created.role, organization_id: organizationId, site_id: created.siteId },
        },
        manager,
      );
      return { ...toApiKeyDto(created), key };
    });
  }

  async list(query: PaginationQueryDto): Promise<Page<ApiKeyDto>> {
    const { rows, total } = await this.apiKeysRepository.list(query.offset, query.per_page);
    return new Page(rows.map(toApiKeyDto), total, query);
  }

  /** Refused at once on every instance: the cached principal is dropped after the commit. */
  async revoke(id: string): Promise<ApiKeyDto> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const key = await this.apiKeysRepository.findById(id, manager);
        if (!key || key.revokedAt) throw Errors.notFound('api_key');
        await this.apiKeysRepository.revoke(id, manager);
        await this.auditService.record(
          { action: 'api_key.revoke', resourceType: 'api_key', resourceId: id, changes: { prefix: key.prefix } },
          manager,
        );
        const revoked = await this.apiKeysRepository.findById(id, manager);
        return toApiKeyDto(revoked ?? key);
      });
    } finally {
      await this.principalCache.invalidate({ scope: 'api_key', id });
    }
  }
}

function toApiKeyDto(key: ApiKeyEntity): ApiKeyDto {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    role: key.role,
    organization_id: key.organizationId,
    site_id: key.siteId,
    created_at: key.createdAt.toISOString(),
    expires_at: key.expiresAt ? key.expiresAt.toISOString() : null,
    last_used_at: key.lastUsedAt ? key.lastUsedAt.toISOString() : null,
    revoked_at: key.revokedAt ? key.revokedAt.toISOString() : null,
  };
}
