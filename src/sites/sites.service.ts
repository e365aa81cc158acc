import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { PrincipalCache } from '../auth/principal-cache.js';
import { seesAllOrganizations, type Principal } from '../auth/principal.js';
import { Errors } from '../common/errors/errors.js';
import { UNIQUENESS, uniquenessConflict } from '../common/errors/uniqueness.js';
import { Page } from '../common/pagination/pagination.js';
import { OrganizationsRepository } from '../organizations/organizations.repository.js';
import { CreateSiteDto, SiteDto, SiteQueryDto, UpdateSiteDto } from './dto/site.dto.js';
import type { SiteEntity } from './entities/site.entity.js';
import { SiteAccess } from './site-access.service.js';
import { normalizeSiteUrl } from './site-url.js';
import { SitesRepository } from './sites.repository.js';

@Injectable()
export class SitesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sitesRepository: SitesRepository,
    private readonly organizationsRepository: OrganizationsRepository,
    private readonly siteAccess: SiteAccess,
    private readonly auditService: AuditService,
    private readonly principalCache: PrincipalCache,
  ) {}

  async create(principal: Principal, dto: CreateSiteDto): Promise<SiteDto> {
    const url = validUrl(dto.url);
    return this.dataSource.transaction(async (manager) => {
      const organizationId = await this.organizationInReach(principal, dto.organization_id, manager);
      if (await this.sitesRepository.urlTaken(url, null, manager)) throw urlTaken();
      const created = await this.sitesRepository.insert(
        {
          organizationId,
          name: dto.name,
          url,
          description: dto.description ?? null,
          createdBy: principal.kind === 'user' ? principal.id : null,
        },
        manager,
      );
      await this.auditService.record(
        {
          action: 'site.create',
          resourceType: 'site',
          resourceId: created.id,
          statusCode: 201,
          changes: { name: created.name, url, organization_id: organizationId },
        },
        manager,
      );
      return toSiteDto(created);
    });
  }

  async list(principal: Principal, query: SiteQueryDto): Promise<Page<SiteDto>> {
    const scope = this.siteAccess.organizationScope(principal);
    // A non-admin asking for another organization simply sees nothing of it.
    if (query.organization_id && scope !== null && query.organization_id !== scope) return new Page([], 0, query);
    const { rows, total } = await this.sitesRepository.search({
      organizationId: query.organization_id ?? scope,
      text: query.q,
      offset: query.offset,
      limit: query.per_page,
    });
    return new Page(rows.map(toSiteDto), total, query);
  }

  async get(principal: Principal, id: string): Promise<SiteDto> {
    return toSiteDto(await this.siteAccess.findVisible(principal, id));
  }

  async update(principal: Principal, id: string, dto: UpdateSiteDto): Promise<SiteDto> {
    const url = dto.url === undefined ? undefined : validUrl(dto.url);
    return this.dataSource.transaction(async (manager) => {
      const site = await this.siteAccess.lockVisible(principal, id, manager);
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      if (url !== undefined && url !== site.url) {
        if (await this.sitesRepository.urlTaken(url, id, manager)) throw urlTaken();
        changes.url = { from: site.url, to: url };
        site.url = url;
      }
      if (dto.name !== undefined && dto.name !== site.name) {
        changes.name = { from: site.name, to: dto.name };
        site.name = dto.name;
      }
      if (dto.description !== undefined && dto.description !== site.description) {
        changes.description = { from: site.description, to: dto.description };
        site.description = dto.description;
      }
      const saved = Object.keys(changes).length > 0 ? await this.sitesRepository.save(site, manager) : site;
      await this.auditService.record({ action: 'site.update', resourceType: 'site', resourceId: id, changes }, manager);
      return toSiteDto(saved);
    });
  }

  /** Soft delete: history stays; the API keys limited to the site are revoked with it. */
  async remove(principal: Principal, id: string): Promise<SiteDto> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const site = await this.siteAccess.lockVisible(principal, id, manager);
        const { apiKeys } = await this.sitesRepository.softDelete(id, manager);
        await this.auditService.record(
          { action: 'site.delete', resourceType: 'site', resourceId: id, changes: { api_keys_revoked: apiKeys } },
          manager,
        );
        return toSiteDto({ ...site, deletedAt: new Date() });
      });
    } finally {
      await this.principalCache.invalidate({ scope: 'site', id });
    }
  }

  /** Admins may place a site in any live organization; everyone else only in their own. */
  private async organizationInReach(
    principal: Principal,
    requested: string | undefined,
    manager: EntityManager,
  ): Promise<string> {
    const organizationId = requested ?? principal.organizationId;
    if (!organizationId) {
      throw Errors.badReference('SITE.ORGANIZATION_REQUIRED', 'organization_id', 'organization_id is required');
    }
    const inReach = seesAllOrganizations(principal) || organizationId === principal.organizationId;
    if (!inReach || !(await this.organizationsRepository.findLiveById(organizationId, manager))) {
      throw Errors.badReference('SITE.ORGANIZATION_NOT_FOUND', 'organization_id', 'No such organization');
    }
    return organizationId;
  }
}

function validUrl(input: string): string {
  const url = normalizeSiteUrl(input);
  if (url === null || url.length > 2048) {
    throw Errors.badReference('SITE.INVALID_URL', 'url', 'url must be an absolute http(s) URL without credentials');
  }
  return url;
}

function urlTaken() {
  return uniquenessConflict(UNIQUENESS.siteUrl);
}

export function toSiteDto(site: SiteEntity): SiteDto {
  return {
    id: site.id,
    organization_id: site.organizationId,
    name: site.name,
    url: site.url,
    description: site.description,
    drupal_version: site.drupalVersion,
    php_version: site.phpVersion,
    last_report_at: site.lastReportAt ? site.lastReportAt.toISOString() : null,
    created_by: site.createdBy,
    created_at: site.createdAt.toISOString(),
    updated_at: site.updatedAt.toISOString(),
    deleted_at: site.deletedAt ? site.deletedAt.toISOString() : null,
  };
}
