import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import { TEST_ADMIN, type TestApp } from './test-app.js';

export type TestRole = 'admin' | 'operator' | 'viewer';

export interface TestUser {
  readonly id: string;
  readonly email: string;
  readonly password: string;
  readonly role: TestRole;
  readonly organizationId: string;
  readonly token: string;
}

export interface TestOrganization {
  readonly id: string;
  readonly name: string;
}

/** `Authorization: Bearer <token>` as a header object for supertest's `.set()`. */
export const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

/** A unique, recognisable suffix so tests sharing one database never collide. */
export const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

/** Factories that go through the real API, as an admin would. */
export class IdentityFixtures {
  private adminToken: string | undefined;

  constructor(private readonly t: TestApp) {}

  async login(email: string, password: string): Promise<string> {
    const response = await this.t.http.post('/api/v1/auth/login').send({ email, password });
    expect(response.status).toBe(200);
    return (response.body as { data: { access_token: string } }).data.access_token;
  }

  async admin(): Promise<string> {
    this.adminToken ??= await this.login(TEST_ADMIN.email, TEST_ADMIN.password);
    return this.adminToken;
  }

  async newOrganization(name = unique('org')): Promise<TestOrganization> {
    const response = await this.t.http.post('/api/v1/organizations').set(bearer(await this.admin())).send({ name });
    expect(response.status).toBe(201);
    return { id: response.body.data.id as string, name };
  }

  async newUser(role: TestRole, organizationId: string, password = `pw-${randomUUID()}`): Promise<TestUser> {
    const email = `${unique(role)}@example.test`;
    const response = await this.t.http
      .post('/api/v1/users/add')
      .set(bearer(await this.admin()))
      .send({ email, password, role, organization_id: organizationId });
    expect(response.status).toBe(201);
    const token = await this.login(email, password);
    return { id: response.body.data.id as string, email, password, role, organizationId, token };
  }

  async newSite(organizationId: string, name = unique('site')): Promise<{ id: string; name: string; url: string }> {
    const response = await this.t.http
      .post('/api/v1/sites')
      .set(bearer(await this.admin()))
      .send({ name, url: `https://${name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}.example.test`, organization_id: organizationId });
    expect(response.status).toBe(201);
    return { id: response.body.data.id as string, name, url: response.body.data.url as string };
  }

  async newApiKey(options: { role: TestRole; organizationId: string; siteId?: string }): Promise<{ id: string; key: string }> {
    const response = await this.t.http
      .post('/api/v1/api-keys')
      .set(bearer(await this.admin()))
      .send({ name: unique('key'), role: options.role, organization_id: options.organizationId, site_id: options.siteId });
    expect(response.status).toBe(201);
    return { id: response.body.data.id as string, key: response.body.data.key as string };
  }
}
