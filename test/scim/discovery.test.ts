// The /scim/v2 surface and its discovery endpoints (RFC 7644 §4, SPEC §5), as an IdP's
// connection test sees them: a SCIM token admitted to its org, SCIM documents in
// application/scim+json, and every refusal in the SCIM error schema — no token, an API key,
// a browser session, a revoked token, an unknown resource or route.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createKey, withKey } from '../helpers/api-keys.ts';
import { asBrowser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PUBLIC_BASE = 'http://localhost:8080/scim/v2';

function assertScimError(res: LightMyRequestResponse, status: number, detail?: RegExp): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/scim\+json/);
  const body = res.json() as { schemas: string[]; status: string; detail: string };
  assert.deepEqual(body.schemas, [ERROR_SCHEMA]);
  assert.equal(body.status, String(status));
  if (detail) assert.match(body.detail, detail);
}

async function scimToken(t: TestApp, org: string) {
  const { admin } = await setUpOrgWithAdmin(t, org);
  const created = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${org}/scim-tokens`,
    payload: { name: 'IdP' },
  });
  assert.equal(created.statusCode, 201, created.body);
  return { admin, ...(created.json() as { id: string; token: string }) };
}

describeEachBackend('SCIM discovery over /scim/v2', (get) => {
  it('answers the service provider config, resource types and schemas to a SCIM token', async () => {
    const t = get();
    const { token } = await scimToken(t, 'scim-disc');
    const config = await withKey(t, token, { method: 'GET', url: '/scim/v2/ServiceProviderConfig' });
    assert.equal(config.statusCode, 200, config.body);
    assert.match(String(config.headers['content-type']), /^application\/scim\+json/);
    assert.equal(config.headers['cache-control'], 'no-store');
    const body = config.json() as { patch: { supported: boolean }; meta: { location: string } };
    assert.equal(body.patch.supported, true);
    assert.equal(body.meta.location, `${PUBLIC_BASE}/ServiceProviderConfig`);

    const types = await withKey(t, token, { method: 'GET', url: '/scim/v2/ResourceTypes' });
    assert.equal(types.statusCode, 200, types.body);
    const list = types.json() as { totalResults: number; Resources: { id: string }[] };
    assert.deepEqual(
      list.Resources.map((r) => r.id),
      ['User', 'Group'],
    );
    assert.equal(list.totalResults, 2);
    const user = await withKey(t, token, { method: 'GET', url: '/scim/v2/ResourceTypes/User' });
    assert.equal((user.json() as { endpoint: string }).endpoint, '/Users');

    const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const schema = await withKey(t, token, { method: 'GET', url: `/scim/v2/Schemas/${enterprise}` });
    assert.equal(schema.statusCode, 200, schema.body);
    assert.ok(
      (schema.json() as { attributes: { name: string }[] }).attributes.some((a) => a.name === 'manager'),
    );
    const all = await withKey(t, token, { method: 'GET', url: '/scim/v2/Schemas' });
    assert.equal((all.json() as { totalResults: number }).totalResults, 3);
  });

  it('refuses every other caller in the SCIM error schema', async () => {
    const t = get();
    const { admin, id, token } = await scimToken(t, 'scim-refuse');
    const url = '/scim/v2/ServiceProviderConfig';
    const anonymous = await t.app.inject({ method: 'GET', url });
    assertScimError(anonymous, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
    const apiKey = await createKey(t, admin, 'scim-refuse');
    assertScimError(await withKey(t, apiKey.token, { method: 'GET', url }), 401);
    assertScimError(await asBrowser(t, admin, { method: 'GET', url }), 401, /Send a SCIM token/);
    assertScimError(await withKey(t, `${token.slice(0, -6)}000000`, { method: 'GET', url }), 401);

    assertScimError(
      await withKey(t, token, { method: 'GET', url: '/scim/v2/ResourceTypes/Printer' }),
      404,
      /No such resource/,
    );
    assertScimError(await withKey(t, token, { method: 'GET', url: '/scim/v2/Printers' }), 404);

    const revoked = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/scim-refuse/scim-tokens/${id}`,
    });
    assert.equal(revoked.statusCode, 204);
    assertScimError(await withKey(t, token, { method: 'GET', url }), 401, /revoked or expired/);
  });
});
