// Forward auth at /v1/authz/check (SPEC §4), as nginx auth_request, Envoy ext_authz and
// Traefik forwardAuth call it: 200 with X-Gatehouse-* identity headers, 401 without a valid
// credential, 403 when the credential may not do what was asked (?org=, ?permission=, a
// write through a read-only key), for API keys and session cookies alike.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { assertError, createKey, withBadChecksum } from '../helpers/api-keys.ts';
import {
  addMember,
  asBrowser,
  type Browser,
  setUpOrgWithAdmin,
  signIn,
  type TestApp,
} from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { type Answer, overSocket } from '../helpers/socket-inject.ts';

const IDENTITY_HEADERS = [
  'x-gatehouse-principal-kind',
  'x-gatehouse-user',
  'x-gatehouse-auth-method',
  'x-gatehouse-org',
  'x-gatehouse-org-slug',
  'x-gatehouse-role',
  'x-gatehouse-read-only',
] as const;

/**
 * The X-Gatehouse-* headers of an answer that say something. A header that does not apply may
 * be left out or sent empty (and the read-only flag sent as "false"), so that a proxy copying
 * them upstream overwrites a client's forged copy; both read here as absent.
 */
function identity(res: Answer): Partial<Record<(typeof IDENTITY_HEADERS)[number], string>> {
  const out: Partial<Record<(typeof IDENTITY_HEADERS)[number], string>> = {};
  for (const name of IDENTITY_HEADERS) {
    const value = res.headers[name];
    if (value === undefined || value === '') continue;
    if (name === 'x-gatehouse-read-only' && value === 'false') continue;
    out[name] = String(value);
  }
  return out;
}

// Every case runs twice: through app.inject(), which reaches Fastify's route, and over a real
// socket, as proxies call it, where a plain GET with a bearer credential is answered by the
// fast path ahead of Fastify (src/http/forward-auth-fast-path.ts).
for (const transport of ['inject', 'socket'] as const) {
  const send = (t: TestApp, options: InjectOptions): Promise<Answer> =>
    transport === 'inject' ? t.app.inject(options) : overSocket(t, options);

  const withKey = (t: TestApp, token: string, options: InjectOptions) =>
    send(t, { ...options, headers: { ...(options.headers ?? {}), authorization: `Bearer ${token}` } });

  const check = (t: TestApp, token: string, query = '', headers: Record<string, string> = {}) =>
    withKey(t, token, { method: 'GET', url: `/v1/authz/check${query}`, headers });

  const checkAsBrowser = (t: TestApp, browser: Browser, query = '') =>
    send(t, { method: 'GET', url: `/v1/authz/check${query}`, cookies: browser.cookies });

  describeEachBackend(`forward auth over ${transport === 'inject' ? 'inject' : 'a socket'}`, (app) => {
    it("answers 200 for a user's key with its identity, its org and the owner's role in X-Gatehouse-* headers", async () => {
      const t = app();
      const { admin, orgId } = await setUpOrgWithAdmin(t, 'fwd-key');
      const dev = await addMember(t, admin, 'fwd-key', 'user', 'dev@fwd-key.example');
      const { token } = await createKey(t, dev, 'fwd-key');
      const res = await check(t, token);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(identity(res), {
        'x-gatehouse-principal-kind': 'user',
        'x-gatehouse-user': dev.userId,
        'x-gatehouse-auth-method': 'api_key',
        'x-gatehouse-org': orgId,
        'x-gatehouse-org-slug': 'fwd-key',
        'x-gatehouse-role': 'user',
      });
      assert.deepEqual(res.json(), {
        principal: { kind: 'user', id: dev.userId, auth_method: 'api_key' },
        org: { id: orgId, slug: 'fwd-key', role: 'user' },
      });
      assert.equal(res.headers['cache-control'], 'no-store', 'a proxy must not cache the answer');
      for (const org of ['fwd-key', orgId])
        assert.equal(identity(await check(t, token, `?org=${org}`))['x-gatehouse-org'], orgId);
    });

    it("reports a service account's key with its kind and the account's live role", async () => {
      const t = app();
      const { admin, orgId } = await setUpOrgWithAdmin(t, 'fwd-sva');
      const created = await asBrowser(t, admin, {
        method: 'POST',
        url: '/v1/orgs/fwd-sva/service-accounts',
        payload: { name: 'gateway', role: 'viewer' },
      });
      const accountId = created.json().id as string;
      const { token } = await createKey(t, admin, 'fwd-sva', { name: 'gw', service_account_id: accountId });
      assert.deepEqual(identity(await check(t, token)), {
        'x-gatehouse-principal-kind': 'service_account',
        'x-gatehouse-user': accountId,
        'x-gatehouse-auth-method': 'api_key',
        'x-gatehouse-org': orgId,
        'x-gatehouse-org-slug': 'fwd-sva',
        'x-gatehouse-role': 'viewer',
        // SPEC §1: a viewer's keys are read-only by inheritance.
        'x-gatehouse-read-only': 'true',
      });
      const write = await check(t, token, '', { 'x-forwarded-method': 'POST' });
      assert.equal(write.statusCode, 403, write.body);
      assert.equal(write.json().error.code, 'read_only_credential');
      await asBrowser(t, admin, {
        method: 'PATCH',
        url: `/v1/orgs/fwd-sva/service-accounts/${accountId}`,
        payload: { role: 'admin' },
      });
      const promoted = identity(await check(t, token));
      assert.equal(promoted['x-gatehouse-role'], 'admin');
      assert.equal(
        promoted['x-gatehouse-read-only'],
        undefined,
        'the live role lifted the inherited read-only',
      );
      assert.equal((await check(t, token, '', { 'x-forwarded-method': 'POST' })).statusCode, 200);
    });

    it('marks a read-only key and refuses the writes a proxy names in X-Forwarded-Method, X-Original-Method or the method itself', async () => {
      const t = app();
      const { admin } = await setUpOrgWithAdmin(t, 'fwd-ro');
      const { token } = await createKey(t, admin, 'fwd-ro', { name: 'ro', read_only: true });
      const read = await check(t, token);
      assert.equal(read.statusCode, 200);
      assert.equal(identity(read)['x-gatehouse-read-only'], 'true');
      assert.equal(identity(read)['x-gatehouse-role'], 'admin');
      const reads: Record<string, string>[] = [
        { 'x-forwarded-method': 'GET' },
        { 'x-original-method': 'HEAD' },
        { 'x-forwarded-method': 'OPTIONS' },
      ];
      for (const headers of reads) {
        assert.equal((await check(t, token, '', headers)).statusCode, 200, JSON.stringify(headers));
      }
      const writes: Record<string, string>[] = [
        { 'x-forwarded-method': 'POST' },
        { 'x-forwarded-method': 'delete' },
        { 'x-original-method': 'PUT' },
        { 'x-original-method': 'PATCH' },
      ];
      for (const headers of writes) {
        assertError(await check(t, token, '', headers), 403, 'read_only_credential', 'method');
      }
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
        assertError(
          await withKey(t, token, { method, url: '/v1/authz/check' }),
          403,
          'read_only_credential',
          'method',
        );
      }

      const writable = await createKey(t, admin, 'fwd-ro', { name: 'rw' });
      const write = await check(t, writable.token, '', { 'x-forwarded-method': 'POST' });
      assert.equal(write.statusCode, 200);
      assert.equal(identity(write)['x-gatehouse-read-only'], undefined);
    });

    it('answers a session cookie without org headers unless ?org= names an org the user belongs to', async () => {
      const t = app();
      const { admin, orgId } = await setUpOrgWithAdmin(t, 'fwd-cookie');
      await setUpOrgWithAdmin(t, 'fwd-cookie-other');
      const viewer = await addMember(t, admin, 'fwd-cookie', 'viewer', 'viewer@fwd-cookie.example');
      const bare = await checkAsBrowser(t, viewer);
      assert.equal(bare.statusCode, 200, bare.body);
      assert.deepEqual(identity(bare), {
        'x-gatehouse-principal-kind': 'user',
        'x-gatehouse-user': viewer.userId,
        'x-gatehouse-auth-method': 'session:password',
      });
      assert.equal(bare.json().org, null);

      for (const org of ['fwd-cookie', orgId]) {
        const scoped = await checkAsBrowser(t, viewer, `?org=${org}`);
        assert.equal(scoped.statusCode, 200);
        assert.deepEqual(identity(scoped), {
          'x-gatehouse-principal-kind': 'user',
          'x-gatehouse-user': viewer.userId,
          'x-gatehouse-auth-method': 'session:password',
          'x-gatehouse-org': orgId,
          'x-gatehouse-org-slug': 'fwd-cookie',
          'x-gatehouse-role': 'viewer',
        });
      }
      for (const org of ['fwd-cookie-other', 'no-such-org'])
        assertError(await checkAsBrowser(t, viewer, `?org=${org}`), 403, 'org_access_denied', 'org');
    });

    it('refuses ?org= of any other org for an API key with credential_org_mismatch, even one the owner belongs to', async () => {
      const t = app();
      const home = await setUpOrgWithAdmin(t, 'fwd-home');
      const away = await setUpOrgWithAdmin(t, 'fwd-away');
      const dev = await addMember(t, home.admin, 'fwd-home', 'user', 'dev@fwd-home.example');
      const join = await asBrowser(t, away.admin, {
        method: 'POST',
        url: '/v1/orgs/fwd-away/members',
        payload: { email: 'dev@fwd-home.example', name: 'dev', role: 'admin' },
      });
      assert.equal(join.statusCode, 201, join.body);
      const { token } = await createKey(t, dev, 'fwd-home');
      for (const org of ['fwd-away', away.orgId, 'no-such-org'])
        assertError(await check(t, token, `?org=${org}`), 403, 'credential_org_mismatch', 'org');
      assert.equal(identity(await checkAsBrowser(t, dev, '?org=fwd-away'))['x-gatehouse-role'], 'admin');
    });

    it("decides ?permission= in the credential's org with the live role, the read-only flag and the matrix", async () => {
      const t = app();
      const { admin } = await setUpOrgWithAdmin(t, 'fwd-perm');
      const dev = await addMember(t, admin, 'fwd-perm', 'user', 'dev@fwd-perm.example');
      const { token } = await createKey(t, dev, 'fwd-perm');
      const readOnly = await createKey(t, dev, 'fwd-perm', { name: 'ro', read_only: true });

      assert.equal((await check(t, token, '?permission=projects:write')).statusCode, 200);
      assert.equal((await check(t, token, '?permission=projects:read&org=fwd-perm')).statusCode, 200);
      assert.equal((await check(t, token, '?permission=profile:own')).statusCode, 200);
      assertError(await check(t, token, '?permission=audit:read'), 403, 'permission_denied');
      assertError(await check(t, readOnly.token, '?permission=projects:write'), 403, 'read_only_credential');
      assert.equal((await check(t, readOnly.token, '?permission=projects:read')).statusCode, 200);

      const demote = await asBrowser(t, admin, {
        method: 'PATCH',
        url: `/v1/orgs/fwd-perm/members/${dev.userId}`,
        payload: { role: 'viewer' },
      });
      assert.equal(demote.statusCode, 200);
      const demoted = await check(t, token, '?permission=projects:write');
      assertError(demoted, 403, 'permission_denied');
      assert.equal(identity(await check(t, token))['x-gatehouse-role'], 'viewer');

      assertError(
        await check(t, token, '?permission=projects:destroy'),
        400,
        'invalid_request',
        'permission',
      );
      // The role change ended the member's sessions; a new one carries the new role.
      assertError(await checkAsBrowser(t, dev), 401, 'session_invalid');
      const again = await signIn(t, 'dev@fwd-perm.example');
      assertError(await checkAsBrowser(t, again, '?permission=projects:read'), 400, 'invalid_request', 'org');
      assert.equal((await checkAsBrowser(t, again, '?permission=profile:own')).statusCode, 200);
      assert.equal(
        (await checkAsBrowser(t, again, '?permission=projects:read&org=fwd-perm')).statusCode,
        200,
      );
      assertError(
        await checkAsBrowser(t, again, '?permission=projects:write&org=fwd-perm'),
        403,
        'permission_denied',
      );
      assert.equal((await checkAsBrowser(t, admin, '?permission=audit:read&org=fwd-perm')).statusCode, 200);
    });

    it('answers 401 with the reason for a missing, mistyped, revoked or suspended-owner credential', async () => {
      const t = app();
      const { admin } = await setUpOrgWithAdmin(t, 'fwd-401');
      const dev = await addMember(t, admin, 'fwd-401', 'user', 'dev@fwd-401.example');
      const key = await createKey(t, dev, 'fwd-401');
      const revoked = await createKey(t, dev, 'fwd-401', { name: 'old' });
      await asBrowser(t, dev, { method: 'DELETE', url: `/v1/orgs/fwd-401/api-keys/${revoked.id}` });

      const anonymous = await send(t, { method: 'GET', url: '/v1/authz/check' });
      assertError(anonymous, 401, 'authentication_required');
      assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="gatehouse"');
      assert.deepEqual(identity(anonymous), {});
      assertError(await check(t, withBadChecksum(key.token)), 401, 'api_key_checksum_mismatch');
      assertError(await check(t, revoked.token), 401, 'api_key_revoked');
      assertError(
        await send(t, {
          method: 'GET',
          url: '/v1/authz/check',
          cookies: { gatehouse_session: 'not-a-session' },
        }),
        401,
        'session_invalid',
      );
      assertError(
        await send(t, {
          method: 'GET',
          url: '/v1/authz/check',
          cookies: dev.cookies,
          headers: { authorization: `Bearer ${revoked.token}` },
        }),
        401,
        'api_key_revoked',
        'Authorization',
      );

      assert.equal((await check(t, key.token)).statusCode, 200);
      const suspend = await asBrowser(t, admin, {
        method: 'PATCH',
        url: `/v1/orgs/fwd-401/members/${dev.userId}`,
        payload: { status: 'suspended' },
      });
      assert.equal(suspend.statusCode, 200);
      const refused = await check(t, key.token);
      assertError(refused, 401, 'api_key_owner_inactive');
      assert.deepEqual(identity(refused), {}, 'a refusal carries no identity');
    });

    it('accepts a POST check with a session cookie and no CSRF header, since a check changes nothing', async () => {
      const t = app();
      const { admin, orgId } = await setUpOrgWithAdmin(t, 'fwd-csrf');
      const post = await send(t, {
        method: 'POST',
        url: '/v1/authz/check?org=fwd-csrf',
        cookies: admin.cookies,
      });
      assert.equal(post.statusCode, 200, post.body);
      assert.equal(identity(post)['x-gatehouse-org'], orgId);
      const forwarded = await send(t, {
        method: 'GET',
        url: '/v1/authz/check',
        cookies: admin.cookies,
        headers: { 'x-forwarded-method': 'DELETE' },
      });
      assert.equal(forwarded.statusCode, 200, 'a session is not read-only');
      assertError(
        await send(t, {
          method: 'POST',
          url: '/v1/orgs/fwd-csrf/projects',
          cookies: admin.cookies,
          payload: { name: 'p' },
        }),
        403,
        'csrf_failed',
      );
    });
  });
}
