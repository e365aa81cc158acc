import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, IdentityFixtures } from '../support/identity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('identity smoke test', () => {
  let t: TestApp;
  let fixtures: IdentityFixtures;

  beforeAll(async () => {
    t = await startTestApp();
    fixtures = new IdentityFixtures(t);
  });

  afterAll(async () => {
    await t.close();
  });

  it('lets the first admin create an organization and a user who can sign in, see itself and sign out', async () => {
    const organization = await fixtures.newOrganization();
    const viewer = await fixtures.newUser('viewer', organization.id);
    const me = await t.http.get('/api/v1/auth/me').set(bearer(viewer.token)).expect(200);
    expect(me.body.data).toMatchObject({ kind: 'user', id: viewer.id, role: 'viewer', organization_id: organization.id });
    await t.http.post('/api/v1/organizations').set(bearer(viewer.token)).send({ name: 'nope' }).expect(403);
    await t.http.post('/api/v1/auth/logout').set(bearer(viewer.token)).expect(200);
    await t.http.get('/api/v1/auth/me').set(bearer(viewer.token)).expect(401);
  });
});
