import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { PrincipalCache } from '../auth/principal-cache.js';
import { seesAllOrganizations, type Principal } from '../auth/principal.js';
import { Errors } from '../common/errors/errors.js';
import { UNIQUENESS, uniquenessConflict } from '../common/errors/uniqueness.js';
import { Page } from '../common/pagination/pagination.js';
import {
  CreateOrganizationDto,
  OrganizationDto,
  OrganizationQueryDto,
  UpdateOrganizationDto,
} from './dto/organization.dto.js';
import type { OrganizationEntity } from './entities/organization.entity.js';
import { OrganizationsRepository } from './organizations.repository.js';

@Injectable()
export class OrganizationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly organizationsRepository: OrganizationsRepository,
    private readonly auditService: AuditService,
    private readonly principalCache: PrincipalCache,
  ) {}

  async create(principal: Principal, dto: CreateOrganizationDto): Promise<OrganizationDto> {
    return this.dataSource.transaction(async (manager) => {
      if (await this.organizationsRepository.nameTaken(dto.name, null, manager)) throw nameTaken();
      const created = await this.organizationsRepository.insert(
        { name: dto.name, description: dto.description ?? null, createdBy: principal.kind === 'user' ? principal.id : null },
        manager,
      );
      await this.auditService.record(
        { action: 'organization.create', resourceType: 'organization', resourceId: created.id, statusCode: 201, changes: { ...dto } },
        manager,
      );
      return toOrganizationDto(created);
    });
  }

  async list(principal: Principal, query: OrganizationQueryDto): Promise<Page<OrganizationDto>> {
    const { rows, total } = await this.organizationsRepository.search({
      nameContains: query.name,
      onlyId: seesAllOrganizations(principal) ? undefined : (principal.organizationId ?? undefined),
      offset: query.offset,
      limit: query.per_page,
    });
    return new Page(rows.map(toOrganizationDto), total, query);
  }

  async get(principal: Principal, id: string): Promise<OrganizationDto> {
    return toOrganizationDto(await this.findVisible(principal, id));
  }

  async update(principal: Principal, id: string, dto: UpdateOrganizationDto): Promise<OrganizationDto> {
    return this.dataSource.transaction(async (manager) => {
      const organization = await this.findVisible(principal, id, manager);
      if (dto.name !== undefined && (await this.organizationsRepository.nameTaken(dto.name, id, manager))) {
        throw nameTaken();
      }
      const changes: Record<string, unknown> = {};
      if (dto.name !== undefined && dto.name !== organization.name) changes.name = { from: organization.name, to: dto.name };
      if (dto.description !== undefined && dto.description !== organization.description) {
        changes.description = { from: organization.description, to: dto.description };
      }
      organization.name = dto.name ?? organization.name;
      if (dto.description !== undefined) organization.description = dto.description;
      const saved = await this.organizationsRepository.save(organization, manager);
      await this.auditService.record(
        { action: 'organization.update', resourceType: 'organization', resourceId: id, changes },
        manager,
      );
      return toOrganizationDto(saved);
    });
  }

  /** Soft delete; its users are soft-deleted and its API keys revoked in the same transaction. */
  async remove(principal: Principal, id: string): Promise<OrganizationDto> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const organization = await this.findVisible(principal, id, manager);
        if (principal.organizationId === id) {
          throw Errors.rule('ORGANIZATION.OWN', 'You cannot delete the organization you belong to');
        }
        if ((await this.organizationsRepository.countLiveAdminsOutside(id, manager)) === 0) {
          throw Errors.rule('ORGANIZATION.LAST_ADMINS', 'This organization holds the last admins; at least one must remain');
        }
        const cascaded = await this.organizationsRepository.softDeleteWithMembers(id, manager);
        await this.auditService.record(
          {
            action: 'organization.delete',
            resourceType: 'organization',
            resourceId: id,
            changes: { users_deleted: cascaded.users, sites_deleted: cascaded.sites, api_keys_revoked: cascaded.apiKeys },
          },
          manager,
        );
        return toOrganizationDto({ ...organization, deletedAt: new Date() });
      });
    } finally {
      // Its users' tokens and its keys stop working on every instance.
      await this.principalCache.invalidate({ scope: 'organization', id });
    }
  }

  /** Another organization's resource is "not found", never "forbidden": its existence is not disclosed. */
  private async findVisible(
    principal: Principal,
    id: string,
    manager?: Parameters<OrganizationsRepository['findLiveById']>[1],
  ): Promise<OrganizationEntity> {
    const organization = await this.organizationsRepository.findLiveById(id, manager);
    if (!organization || (!seesAllOrganizations(principal) && principal.organizationId !== id)) {
      throw Errors.notFound('organization');
    }
    return organization;
  }
}

function nameTaken() {
  return uniquenessConflict(UNIQUENESS.organizationName);
}

export function toOrganizationDto(organization: OrganizationEntity): OrganizationDto {
  return {
    id: organization.id,
    name: organization.name,
    description: organization.description,
    created_by: organization.createdBy,
    created_at: organization.createdAt.toISOString(),
    updated_at: organization.updatedAt.toISOString(),
    deleted_at: organization.deletedAt ? organization.deletedAt.toISOString() : null,
  };
}
