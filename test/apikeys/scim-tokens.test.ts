// SCIM tokens (SPEC §2, §5): an org's admin makes one for its identity provider (gks_, shown
// once, stored as a digest), lists and revokes it, every change audited; only admins may.
// The token is a credential on the SCIM surface only, bound to its org, refused once revoked
// or expired; nothing else is accepted there, and it is accepted nowhere else.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ResourceSurface } from '../../src/authn/credential-kind.ts';
import type { Authenticated } from '../../src/authn/index.ts';
import { digestSecret } from '../../src/core/secrets.ts';
import { assertError, createKey, withKey } from '../helpers/api-keys.ts';
import { addMember, asBrowser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

const SCIM_TOKEN = /^gks_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/;

interface IssuedScimToken {
  id: string;
  name: string;
  prefix: string;
  status: string;
  token: string;
  expires_at: string | null;
}

/** What the resolver makes of a bearer credential on a surface: the principal, or the refusal's code. */
async function presented(
  t: TestApp,
  token: string,
  surface: ResourceSurface,
): Promise<Authenticated | string> {
  const ctx = { ...t.services.systemContext('scim-token-test'), ip: '192.0.2.10' };
  try {
    return await t.services.resolver.authenticate(ctx, {
      authorization: `Bearer ${token}`,
      cookies: {},
      surface,
    });
  } catch (error) {
    return (error as { code: string }).code;
  }
}

describeEachBackend('SCIM tokens', (get) => {
  it('lets an admin make a gks_ token shown once, stored as a digest, listed without its secret, audited', async () => {
    const t = get();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'scim-make');
    const created = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/scim-make/scim-tokens',
      payload: { name: 'Okta' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const issued = created.json() as IssuedScimToken;
    assert.match(issued.token, SCIM_TOKEN);
    assert.equal(issued.status, 'active');
    assert.ok(issued.token.startsWith(issued.prefix));
    const row = await t.services.database.db
      .selectFrom('scim_tokens')
      .selectAll()
      .where('id', '=', issued.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.secret_digest, digestSecret(issued.token));
    assert.equal(row.org_id, orgId);
    assert.doesNotMatch(JSON.stringify(row), new RegExp(issued.token.slice(17)), 'no secret stored');

    const listed = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/scim-make/scim-tokens' });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      (listed.json() as { data: { id: string }[] }).data.map((token) => token.id),
      [issued.id],
    );
    assert.doesNotMatch(listed.body, new RegExp(issued.token.slice(17)));
    const events = await t.services.database.db
      .selectFrom('audit_events')
      .select(['action', 'target_id'])
      .where('org_id', '=', orgId)
      .where('action', 'like', 'scim_token.%')
      .execute();
    assert.deepEqual(events, [{ action: 'scim_token.created', target_id: issued.id }]);
  });

  it('accepts the token on the SCIM surface only, bound to its org, and refuses it revoked', async () => {
    const t = get();
    const { admin } = await setUpOrgWithAdmin(t, 'scim-use');
    const issued = (
      await asBrowser(t, admin, {
        method: 'POST',
        url: '/v1/orgs/scim-use/scim-tokens',
        payload: { name: 'Entra' },
      })
    ).json() as IssuedScimToken;
    const accepted = await presented(t, issued.token, 'scim');
    assert.ok(accepted && typeof accepted === 'object', String(accepted));
    assert.equal(accepted.principal.authMethod, 'scim_token');
    assert.deepEqual(accepted.principal.scopes, ['scim:write']);
    assert.equal(accepted.boundOrg?.org.slug, 'scim-use');
    assert.equal(accepted.principal.credentialId, issued.id);

    assert.equal(await presented(t, issued.token, 'api'), 'unsupported_credential');
    assert.equal(await presented(t, issued.token, 'mcp'), 'unsupported_credential');
    const onV1 = await withKey(t, issued.token, { method: 'GET', url: '/v1/me' });
    assert.equal(onV1.statusCode, 401, 'a SCIM token is no credential on /v1');
    const apiKey = await createKey(t, admin, 'scim-use');
    assert.equal(
      await presented(t, apiKey.token, 'scim'),
      'unsupported_credential',
      'nor an API key on SCIM',
    );

    const tampered = `${issued.token.slice(0, -8)}AAAAAAAA`;
    assert.match(String(await presented(t, tampered, 'scim')), /^scim_token_(malformed|refused)$/);

    const revoked = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/scim-use/scim-tokens/${issued.id}`,
    });
    assert.equal(revoked.statusCode, 204);
    assert.equal(
      await presented(t, issued.token, 'scim'),
      'scim_token_refused',
      'the cached verification is dropped',
    );
    const listed = await asBrowser(t, admin, {
      method: 'GET',
      url: '/v1/orgs/scim-use/scim-tokens?include_revoked=true',
    });
    assert.equal((listed.json() as { data: { status: string }[] }).data[0]?.status, 'revoked');
  });

  it('refuses an expired token, and an expiry in the past', async () => {
    const t = get();
    const { admin } = await setUpOrgWithAdmin(t, 'scim-expiry');
    const past = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/scim-expiry/scim-tokens',
      payload: { name: 'old', expires_at: new Date(t.clock.now() - 1000).toISOString() },
    });
    assertError(past, 400, 'api_key_invalid_expiry', 'expires_at');
    const soon = (
      await asBrowser(t, admin, {
        method: 'POST',
        url: '/v1/orgs/scim-expiry/scim-tokens',
        payload: { name: 'soon', expires_at: new Date(t.clock.now() + 60_000).toISOString() },
      })
    ).json() as IssuedScimToken;
    assert.ok(typeof (await presented(t, soon.token, 'scim')) === 'object');
    t.clock.advance(61_000);
    assert.equal(await presented(t, soon.token, 'scim'), 'scim_token_refused');
  });

  it('lets only admins of the org manage tokens', async () => {
    const t = get();
    const { admin } = await setUpOrgWithAdmin(t, 'scim-roles');
    const user = await addMember(t, admin, 'scim-roles', 'user', 'user@scim-roles.example');
    const viewer = await addMember(t, admin, 'scim-roles', 'viewer', 'viewer@scim-roles.example');
    for (const caller of [user, viewer]) {
      const create = await asBrowser(t, caller, {
        method: 'POST',
        url: '/v1/orgs/scim-roles/scim-tokens',
        payload: { name: 'x' },
      });
      assertError(create, 403, 'permission_denied');
      assertError(
        await asBrowser(t, caller, { method: 'GET', url: '/v1/orgs/scim-roles/scim-tokens' }),
        403,
        'permission_denied',
      );
    }
    const { admin: otherAdmin } = await setUpOrgWithAdmin(t, 'scim-other');
    const issued = (
      await asBrowser(t, admin, {
        method: 'POST',
        url: '/v1/orgs/scim-roles/scim-tokens',
        payload: { name: 'Okta' },
      })
    ).json() as IssuedScimToken;
    const foreign = await asBrowser(t, otherAdmin, {
      method: 'DELETE',
      url: `/v1/orgs/scim-other/scim-tokens/${issued.id}`,
    });
    assertError(foreign, 404, 'scim_token_not_found', 'scim_token_id');
    assert.equal(typeof (await presented(t, issued.token, 'scim')), 'object', 'still valid');
  });
});
