// Confidential OAuth clients acting as a service account: made by an admin over /v1 (the
// secret shown once, sealed at rest), their client-credentials tokens act as the service
// account in its org only, within their scopes and its live role; disabling the account or
// deleting the client stops tokens already verified and cached.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertError } from '../helpers/api-keys.ts';
import { addMember, asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { oauthCall, PUBLIC_URL } from '../helpers/oauth.ts';

const API_RESOURCE = `${PUBLIC_URL}/v1`;

interface CreatedClient {
  client_id: string;
  client_secret: string;
  token_endpoint: string;
  service_account_id: string;
}

async function serviceAccount(t: TestApp, admin: Browser, org: string, role: string): Promise<string> {
  const res = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${org}/service-accounts`,
    payload: { name: 'gateway', role },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

async function createClient(t: TestApp, as: Browser, org: string, account: string) {
  return asBrowser(t, as, {
    method: 'POST',
    url: `/v1/orgs/${org}/service-accounts/${account}/oauth-clients`,
    payload: { name: 'platform gateway' },
  });
}

function clientCredentials(t: TestApp, client: CreatedClient, scope: string, secret = client.client_secret) {
  return oauthCall(t, {
    method: 'POST',
    url: '/oauth/token',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: new URLSearchParams({
      grant_type: 'client_credentials',
      resource: API_RESOURCE,
      scope,
    }).toString(),
  });
}

async function tokenFor(t: TestApp, client: CreatedClient, scope: string): Promise<string> {
  const res = await clientCredentials(t, client, scope);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().access_token;
}

const bearer = (t: TestApp, token: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload: payload as never });

describeEachBackend('OAuth clients of service accounts', (app) => {
  it('are made by an admin, shown once, sealed at rest, and get tokens that act as the service account in its org', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'sac-use');
    await setUpOrgWithAdmin(t, 'sac-other');
    const account = await serviceAccount(t, admin, 'sac-use', 'user');
    const res = await createClient(t, admin, 'sac-use', account);
    assert.equal(res.statusCode, 201, res.body);
    const client = res.json() as CreatedClient;
    assert.match(client.client_id, /^gsc_/);
    assert.equal(client.token_endpoint, `${PUBLIC_URL}/oauth/token`);
    assert.equal(client.service_account_id, account);
    const listed = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/sac-use/service-accounts/${account}/oauth-clients`,
    });
    assert.deepEqual(
      listed.json().data.map((c: { client_id: string }) => c.client_id),
      [client.client_id],
    );
    assert.ok(!listed.body.includes(client.client_secret), 'the secret is shown at creation only');
    const stored = await t.database.db.selectFrom('oauth_service_account_clients').selectAll().execute();
    assert.ok(!JSON.stringify(stored).includes(client.client_secret), 'sealed at rest');

    const token = await tokenFor(t, client, 'projects:read projects:write authz:check');
    const check = await bearer(t, token, 'GET', '/v1/authz/check');
    assert.equal(check.statusCode, 200, check.body);
    assert.equal(check.headers['x-gatehouse-principal-kind'], 'service_account');
    assert.equal(check.headers['x-gatehouse-user'], account);
    assert.equal(check.headers['x-gatehouse-org-slug'], 'sac-use');
    const made = await bearer(t, token, 'POST', '/v1/orgs/sac-use/projects', { name: 'from the gateway' });
    assert.equal(made.statusCode, 201, made.body);
    assert.equal((await bearer(t, token, 'GET', '/v1/orgs/sac-use/projects')).statusCode, 200);
    assertError(await bearer(t, token, 'GET', '/v1/orgs/sac-other/projects'), 403, 'credential_org_mismatch');
    // Narrowed to its scopes: a read-only token cannot write, whatever the account's role.
    const reading = await tokenFor(t, client, 'projects:read');
    assertError(
      await bearer(t, reading, 'POST', '/v1/orgs/sac-use/projects', { name: 'no' }),
      403,
      'insufficient_scope',
    );
    // Within the account's role: a user account cannot read the audit log, whatever the scopes.
    const wide = await tokenFor(t, client, 'audit:read');
    assert.equal((await bearer(t, wide, 'GET', '/v1/orgs/sac-use/audit')).statusCode, 403);

    const wrong = await clientCredentials(t, client, 'projects:read', `${client.client_secret}x`);
    assert.equal(wrong.statusCode, 401, wrong.body);
    assert.equal(wrong.json().error, 'invalid_client');
  });

  it('are made only by admins, for a service account of their org', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'sac-who');
    const { admin: stranger } = await setUpOrgWithAdmin(t, 'sac-stranger');
    const dev = await addMember(t, admin, 'sac-who', 'user', 'dev@sac-who.example');
    const account = await serviceAccount(t, admin, 'sac-who', 'viewer');
    assert.equal((await createClient(t, dev, 'sac-who', account)).statusCode, 403);
    assert.equal(
      (await createClient(t, stranger, 'sac-stranger', account)).statusCode,
      404,
      'not their account',
    );
    assert.equal((await createClient(t, stranger, 'sac-who', account)).statusCode, 404, 'not their org');
    const bad = await asBrowser(t, admin, {
      method: 'POST',
      url: `/v1/orgs/sac-who/service-accounts/${account}/oauth-clients`,
      payload: { name: '' },
    });
    assert.equal(bad.statusCode, 400, bad.body);
  });

  it('stop acting the moment the account is disabled or the client deleted, cached or not', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'sac-stop');
    const account = await serviceAccount(t, admin, 'sac-stop', 'user');
    const client = (await createClient(t, admin, 'sac-stop', account)).json() as CreatedClient;
    const token = await tokenFor(t, client, 'projects:read');
    const read = () => bearer(t, token, 'GET', '/v1/orgs/sac-stop/projects');
    assert.equal((await read()).statusCode, 200);

    const disable = (disabled: boolean) =>
      asBrowser(t, admin, {
        method: 'PATCH',
        url: `/v1/orgs/sac-stop/service-accounts/${account}`,
        payload: { disabled },
      });
    assert.equal((await disable(true)).statusCode, 200);
    assertError(await read(), 401, 'access_token_service_account_disabled');
    assert.equal((await disable(false)).statusCode, 200);
    assert.equal((await read()).statusCode, 200, 'enabled again');

    const deleted = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/sac-stop/service-accounts/${account}/oauth-clients/${client.client_id}`,
    });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assertError(await read(), 401, 'access_token_without_user');
    const again = await clientCredentials(t, client, 'projects:read');
    assert.equal(again.json().error, 'invalid_client', 'a deleted client gets no tokens');
    const gone = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/sac-stop/service-accounts/${account}/oauth-clients/${client.client_id}`,
    });
    assertError(gone, 404, 'oauth_client_not_found');

    const audit = (await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/sac-stop/audit' })).json()
      .data as { action: string; target: { id: string } | null }[];
    const about = audit.filter((e) => e.target?.id === client.client_id).map((e) => e.action);
    assert.deepEqual(about.sort(), ['oauth_client.created', 'oauth_client.deleted']);
  });
});
