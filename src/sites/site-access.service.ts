import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { seesAllOrganizations, type Principal } from '../auth/principal.js';
import { Errors } from '../common/errors/errors.js';
import type { SiteEntity } from './entities/site.entity.js';
import { SitesRepository } from './sites.repository.js';

/**
 * Which sites a caller may reach: admins every live site, everyone else their organization's, and a key
 * limited to one site only that site. Anything out of reach is "not found", never "forbidden".
 */
@Injectable()
export class SiteAccess {
  constructor(private readonly sitesRepository: SitesRepository) {}

  async findVisible(principal: Principal, siteId: string, manager?: EntityManager): Promise<SiteEntity> {
    const site = await this.sitesRepository.findLiveById(siteId, manager);
    if (!site || !this.reaches(principal, site)) throw Errors.notFound('site');
    return site;
  }

  /** Like findVisible, and locks the site's row for the rest of the caller's transaction. */
  async lockVisible(principal: Principal, siteId: string, manager: EntityManager): Promise<SiteEntity> {
    const site = await this.sitesRepository.lockLive(siteId, manager);
    if (!site || !this.reaches(principal, site)) throw Errors.notFound('site');
    return site;
  }

  /** The organization a query must stay inside: null for admins (all of them). */
  organizationScope(principal: Principal): string | null {
    return seesAllOrganizations(principal) ? null : principal.organizationId;
  }

  /** The site a query must stay inside: set for keys limited to one site. */
  siteScope(principal: Principal): string | null {
    return principal.siteId;
  }

  private reaches(principal: Principal, site: SiteEntity): boolean {
    if (principal.siteId !== null && principal.siteId !== site.id) return false;
    return seesAllOrganizations(principal) || principal.organizationId === site.organizationId;
  }
}
