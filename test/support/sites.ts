import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import { bearer } from './identity.js';
import type { TestApp } from './test-app.js';

/** Credentials as request headers: a JWT (`Bearer`) or a machine's `X-API-Key`. */
export type Credentials = { readonly token: string } | { readonly apiKey: string };

export const credentialHeaders = (credentials: Credentials): Record<string, string> =>
  'token' in credentials ? bearer(credentials.token) : { 'X-API-Key': credentials.apiKey };

/** A unique Drupal machine name (lower-case letters, digits, underscores), so reports never share modules by chance. */
export const machineName = (label = 'mod'): string => `${label}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

/** A unique host name under example.test. */
export const uniqueHost = (label = 'site'): string => `${label}-${randomUUID().slice(0, 8)}.example.test`;

export interface ReportedModule {
  name: string;
  version: string;
  project?: string;
  type?: 'module' | 'theme' | 'profile' | 'core';
  status?: 'enabled' | 'disabled';
  latest_version?: string;
  update_available?: boolean;
  security_update?: boolean;
}

export interface ModuleReport {
  drupal_version: string;
  php_version?: string;
  modules: ReportedModule[];
}

/** One current module as GET /sites/{id}/modules returns it. */
export interface SiteModule {
  module_id: string;
  name: string;
  project: string;
  type: string;
  status: string;
  installed_version: string;
  recommended_version: string | null;
  update_status: string;
  status_source: string;
  status_reason: string | null;
  update_available_since: string | null;
  first_seen_at: string;
  last_seen_at: string;
}

export interface ModuleVersion {
  module_id: string;
  module_name: string;
  version: string;
  first_seen_at: string;
  last_seen_at: string;
  site_count: number;
  sites: Array<{
    site_id: string;
    site_name: string;
    site_url: string;
    first_seen_at: string;
    last_seen_at: string;
    current: boolean;
  }>;
}

export const report = (modules: ReportedModule[], extra: Partial<Omit<ModuleReport, 'modules'>> = {}): ModuleReport => ({
  drupal_version: '10.2.3',
  php_version: '8.3.4',
  ...extra,
  modules,
});

/** Site and module requests over HTTP, with the caller's credentials. */
export class SiteClient {
  constructor(private readonly t: TestApp) {}

  postReport(siteId: string, body: unknown, credentials: Credentials) {
    return this.t.http.post(`/api/v1/sites/${siteId}/modules`).set(credentialHeaders(credentials)).send(body as object);
  }

  listModules(siteId: string, credentials: Credentials, query: Record<string, string | number> = {}) {
    return this.t.http.get(`/api/v1/sites/${siteId}/modules`).query(query).set(credentialHeaders(credentials));
  }

  listVersions(moduleId: string, credentials: Credentials, query: Record<string, string | number> = {}) {
    return this.t.http.get(`/api/v1/modules/${moduleId}/versions`).query(query).set(credentialHeaders(credentials));
  }

  /** Every current module of a site (all pages), in the order the API lists them. */
  async allModules(siteId: string, credentials: Credentials, query: Record<string, string | number> = {}): Promise<SiteModule[]> {
    const all: SiteModule[] = [];
    for (let page = 1; ; page += 1) {
      const response = await this.listModules(siteId, credentials, { ...query, page, per_page: 100 });
      expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
      all.push(...(response.body.data as SiteModule[]));
      if (page >= (response.body.meta.total_pages as number)) return all;
    }
  }

  /** Every version of a module in the caller's reach (all pages). */
  async allVersions(moduleId: string, credentials: Credentials): Promise<ModuleVersion[]> {
    const all: ModuleVersion[] = [];
    for (let page = 1; ; page += 1) {
      const response = await this.listVersions(moduleId, credentials, { page, per_page: 100 });
      expect({ status: response.status, body: response.body as unknown }).toMatchObject({ status: 200 });
      all.push(...(response.body.data as ModuleVersion[]));
      if (page >= (response.body.meta.total_pages as number)) return all;
    }
  }

  getSite(siteId: string, credentials: Credentials) {
    return this.t.http.get(`/api/v1/sites/${siteId}`).set(credentialHeaders(credentials));
  }
}

/** name → module, for comparing a site's state regardless of order. */
export const byName = (modules: readonly SiteModule[]): Map<string, SiteModule> =>
  new Map(modules.map((module) => [module.name, module]));

/** The parts of a site's modules a report decides (no timestamps), sorted by name. */
export const reportedState = (modules: readonly SiteModule[]): Array<Pick<SiteModule, 'name' | 'installed_version' | 'status'>> =>
  modules
    .map(({ name, installed_version, status }) => ({ name, installed_version, status }))
    .sort((a, b) => a.name.localeCompare(b.name));

/** What {@link reportedState} should read after this report was applied. */
export const stateOfReport = (body: ModuleReport): Array<Pick<SiteModule, 'name' | 'installed_version' | 'status'>> =>
  body.modules
    .map(({ name, version, status }) => ({ name, installed_version: version, status: status ?? 'enabled' }))
    .sort((a, b) => a.name.localeCompare(b.name));
