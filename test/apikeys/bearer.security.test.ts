// Bearer API keys under attack (SPEC §2, §11): every way a presented credential is wrong gets
// its own stable 401/403 code; mistyped and forged keys are turned away before any database
// work; a key never leaves its org; failures are rate-limited per client address; and no key
// reaches a log line or an answer other than the one that issued it.
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { HOUR, isoTime, MINUTE, SECOND } from '../../src/core/clock.ts';
import { issueToken } from '../../src/core/secrets.ts';
import { createLogger } from '../../src/logger.ts';
import {
  assertError,
  createKey,
  type IssuedKeyBody,
  secretOf,
  withBadChecksum,
  withForgedSecret,
  withKey,
} from '../helpers/api-keys.ts';
import {
  addMember,
  asBrowser,
  type Browser,
  createTestApp,
  setUpOrgWithAdmin,
  type TestApp,
} from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

// Each test calls from its own address, so the per-address failure limit (60 a minute by
// default) never carries over from one test to the next.
let nextAddress = 0;
const freshAddress = () => `10.77.${Math.floor(++nextAddress / 250)}.${nextAddress % 250}`;

function projects(t: TestApp, authorization: string | undefined, ip: string, org = 'acme') {
  return t.app.inject({
    method: 'GET',
    url: `/v1/orgs/${org}/projects`,
    remoteAddress: ip,
    ...(authorization === undefined ? {} : { headers: { authorization } }),
  });
}

const bearer = (token: string) => `Bearer ${token}`;

function lookups(t: TestApp): number {
  return t.services.apiKeys.lookupStats().storeLookups;
}

async function orgWithUserKey(
  t: TestApp,
  slug: string,
  role: 'admin' | 'user' | 'viewer' = 'user',
  body: { name: string; read_only?: boolean; expires_at?: string } = { name: 'ci' },
): Promise<{ admin: Browser; member: Browser; key: IssuedKeyBody; orgId: string }> {
  const { admin, orgId } = await setUpOrgWithAdmin(t, slug);
  const member = await addMember(t, admin, slug, role, `${role}-member@${slug}.example`);
  return { admin, member, key: await createKey(t, member, slug, body), orgId };
}

/** An app whose limiter allows `perMinute` failures, closed when the test ends. */
async function appWithFailureLimit(kind: TestApp['kind'], perMinute: number, test: TestContext) {
  const t = await createTestApp(kind, { GATEHOUSE_AUTH_FAILURES_PER_MINUTE: String(perMinute) });
  test.after(() => t.close());
  return t;
}

describeEachBackend('bearer API keys under attack', (app) => {
  it('answers a guarded route without a credential with 401 authentication_required and a Bearer challenge', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'anon');
    const res = await projects(t, undefined, freshAddress(), 'anon');
    assertError(res, 401, 'authentication_required');
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="gatehouse"');
  });

  it('refuses an Authorization header that is not "Bearer <credential>" with malformed_authorization_header', async () => {
    const t = app();
    const { key } = await orgWithUserKey(t, 'header');
    const ip = freshAddress();
    for (const header of [
      'Basic YWxpY2U6c2VjcmV0',
      'Bearer',
      'Bearer ',
      `Token ${key.token}`,
      `Bearer ${key.token} extra`,
      `Bearer\t${key.token}`,
      key.token,
    ]) {
      assertError(
        await projects(t, header, ip, 'header'),
        401,
        'malformed_authorization_header',
        'Authorization',
      );
    }
    assert.equal(
      (await projects(t, `bearer  ${key.token}`, ip, 'header')).statusCode,
      200,
      'the scheme is case-insensitive',
    );
  });

  it('refuses a bearer token with a prefix Gatehouse does not issue on /v1 with unsupported_credential', async () => {
    const t = app();
    const { key } = await orgWithUserKey(t, 'prefix');
    const ip = freshAddress();
    // A SCIM token is only for /scim/v2 (SPEC §2).
    for (const token of ['sk-proj-abc123', `GK_${key.token.slice(3)}`, issueToken('gks_').token]) {
      assertError(
        await projects(t, bearer(token), ip, 'prefix'),
        401,
        'unsupported_credential',
        'Authorization',
      );
    }
  });

  it('refuses a gk_ token of the wrong length or alphabet with api_key_malformed before any lookup', async () => {
    const t = app();
    const { key } = await orgWithUserKey(t, 'shape');
    const ip = freshAddress();
    const before = lookups(t);
    const { token } = key;
    for (const bad of [
      'gk_',
      token.slice(0, -1),
      `${token}A`,
      `${token.slice(0, 15)}${token.slice(16)}`,
      `${token.slice(0, 20)}-${token.slice(21)}`,
      `${token.slice(0, 15)}.${token.slice(16)}`,
      `gk_${token.slice(4)}`,
    ]) {
      assertError(await projects(t, bearer(bad), ip, 'shape'), 401, 'api_key_malformed', 'Authorization');
    }
    assert.equal(lookups(t), before, 'malformed keys cost the database nothing');
  });

  it('refuses a gk_ token whose checksum does not match with api_key_checksum_mismatch and no database work', async () => {
    const t = app();
    const { key } = await orgWithUserKey(t, 'crc');
    const ip = freshAddress();
    const { token } = key;
    const flipped = token[20] === 'a' ? 'b' : 'a';
    const before = lookups(t);
    for (const bad of [withBadChecksum(token), `${token.slice(0, 20)}${flipped}${token.slice(21)}`]) {
      for (let i = 0; i < 3; i++)
        assertError(
          await projects(t, bearer(bad), ip, 'crc'),
          401,
          'api_key_checksum_mismatch',
          'Authorization',
        );
    }
    assert.equal(lookups(t), before, 'a mistyped key is refused before any lookup');
    assert.equal((await projects(t, bearer(token), ip, 'crc')).statusCode, 200);
  });

  it('refuses a well-formed key nobody issued with api_key_unknown, looking it up once however often it is sent', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'unknown');
    const ip = freshAddress();
    const { token } = issueToken('gk_');
    const before = lookups(t);
    for (let i = 0; i < 3; i++)
      assertError(await projects(t, bearer(token), ip, 'unknown'), 401, 'api_key_unknown', 'Authorization');
    assert.equal(lookups(t), before + 1, 'later attempts are answered from the cache of refused keys');
  });

  it('refuses a real key id with a forged secret with api_key_secret_mismatch and keeps the real key working', async () => {
    const t = app();
    const { key } = await orgWithUserKey(t, 'forge');
    const ip = freshAddress();
    for (let i = 0; i < 3; i++) {
      const forged = withForgedSecret(key.token);
      assert.equal(forged.slice(0, 16), key.token.slice(0, 16), 'same key id');
      assertError(
        await projects(t, bearer(forged), ip, 'forge'),
        401,
        'api_key_secret_mismatch',
        'Authorization',
      );
    }
    assert.equal((await projects(t, bearer(key.token), ip, 'forge')).statusCode, 200);
  });

  it('refuses a revoked key with api_key_revoked on the next request, even just after it was verified', async () => {
    const t = app();
    const { member, key } = await orgWithUserKey(t, 'revoked');
    const ip = freshAddress();
    assert.equal((await projects(t, bearer(key.token), ip, 'revoked')).statusCode, 200);
    assert.equal((await projects(t, bearer(key.token), ip, 'revoked')).statusCode, 200);
    const del = await asBrowser(t, member, { method: 'DELETE', url: `/v1/orgs/revoked/api-keys/${key.id}` });
    assert.equal(del.statusCode, 204);
    for (let i = 0; i < 2; i++)
      assertError(
        await projects(t, bearer(key.token), ip, 'revoked'),
        401,
        'api_key_revoked',
        'Authorization',
      );
  });

  it('refuses a key from its expires_at on with api_key_expired', async () => {
    const t = app();
    const expiresAt = t.clock.now() + HOUR;
    const { member, key } = await orgWithUserKey(t, 'expiry', 'user', {
      name: 'short-lived',
      expires_at: isoTime(expiresAt),
    });
    const ip = freshAddress();
    assert.equal(key.expires_at, isoTime(expiresAt));
    assert.equal((await projects(t, bearer(key.token), ip, 'expiry')).statusCode, 200);
    t.clock.set(expiresAt - 1);
    assert.equal((await projects(t, bearer(key.token), ip, 'expiry')).statusCode, 200);
    t.clock.set(expiresAt);
    assertError(await projects(t, bearer(key.token), ip, 'expiry'), 401, 'api_key_expired', 'Authorization');
    const read = await asBrowser(t, member, { method: 'GET', url: `/v1/orgs/expiry/api-keys/${key.id}` });
    assert.equal(read.json().status, 'expired');
  });

  it("refuses a suspended owner's key with api_key_owner_inactive and accepts it again after reactivation", async () => {
    const t = app();
    const { admin, member, key } = await orgWithUserKey(t, 'suspend');
    const ip = freshAddress();
    const setStatus = (status: string) =>
      asBrowser(t, admin, {
        method: 'PATCH',
        url: `/v1/orgs/suspend/members/${member.userId}`,
        payload: { status },
      });
    assert.equal((await projects(t, bearer(key.token), ip, 'suspend')).statusCode, 200);
    assert.equal((await setStatus('suspended')).statusCode, 200);
    for (let i = 0; i < 2; i++)
      assertError(await projects(t, bearer(key.token), ip, 'suspend'), 401, 'api_key_owner_inactive');
    assert.equal((await setStatus('active')).statusCode, 200);
    assert.equal((await projects(t, bearer(key.token), ip, 'suspend')).statusCode, 200);
  });

  it("refuses a disabled service account's key with api_key_owner_inactive until the account is enabled", async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'sva-off');
    const created = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/sva-off/service-accounts',
      payload: { name: 'gateway', role: 'user' },
    });
    const accountId = created.json().id as string;
    const key = await createKey(t, admin, 'sva-off', { name: 'gw', service_account_id: accountId });
    const ip = freshAddress();
    const setDisabled = (disabled: boolean) =>
      asBrowser(t, admin, {
        method: 'PATCH',
        url: `/v1/orgs/sva-off/service-accounts/${accountId}`,
        payload: { disabled },
      });
    assert.equal((await projects(t, bearer(key.token), ip, 'sva-off')).statusCode, 200);
    assert.equal((await setDisabled(true)).statusCode, 200);
    assertError(await projects(t, bearer(key.token), ip, 'sva-off'), 401, 'api_key_owner_inactive');
    assert.equal((await setDisabled(false)).statusCode, 200);
    assert.equal((await projects(t, bearer(key.token), ip, 'sva-off')).statusCode, 200);
  });

  it('refuses the keys of a removed member and of a deleted service account with api_key_revoked', async () => {
    const t = app();
    const { admin, member, key } = await orgWithUserKey(t, 'gone');
    const created = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/gone/service-accounts',
      payload: { name: 'gateway', role: 'user' },
    });
    const accountId = created.json().id as string;
    const accountKey = await createKey(t, admin, 'gone', { name: 'gw', service_account_id: accountId });
    const ip = freshAddress();
    for (const token of [key.token, accountKey.token])
      assert.equal((await projects(t, bearer(token), ip, 'gone')).statusCode, 200);

    const removed = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/gone/members/${member.userId}`,
    });
    assert.equal(removed.statusCode, 204);
    const deleted = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/gone/service-accounts/${accountId}`,
    });
    assert.equal(deleted.statusCode, 204);
    for (const token of [key.token, accountKey.token])
      assertError(await projects(t, bearer(token), ip, 'gone'), 401, 'api_key_revoked');
  });

  it("refuses a key on any other org's path with 403 credential_org_mismatch, even one its owner belongs to", async () => {
    const t = app();
    const { key, orgId } = await orgWithUserKey(t, 'home');
    const away = await setUpOrgWithAdmin(t, 'away');
    const join = await asBrowser(t, away.admin, {
      method: 'POST',
      url: '/v1/orgs/away/members',
      payload: { email: 'user-member@home.example', name: 'user', role: 'admin' },
    });
    assert.equal(join.statusCode, 201, join.body);
    const ip = freshAddress();
    for (const org of ['away', away.orgId, 'no-such-org', 'org_00000000000000000000000000'])
      assertError(await projects(t, bearer(key.token), ip, org), 403, 'credential_org_mismatch', 'org');
    assertError(
      await withKey(t, key.token, {
        method: 'POST',
        url: '/v1/orgs/away/projects',
        payload: { name: 'smuggled' },
        remoteAddress: ip,
      }),
      403,
      'credential_org_mismatch',
    );
    const mine = await withKey(t, key.token, { method: 'GET', url: '/v1/orgs', remoteAddress: ip });
    assert.equal(mine.statusCode, 200, mine.body);
    assert.deepEqual(
      mine.json().data.map((o: { slug: string }) => o.slug),
      ['home'],
      "the key's own org list shows only its org",
    );
    assert.equal((await projects(t, bearer(key.token), ip, orgId)).statusCode, 200, 'its org by id');
    assert.equal((await projects(t, bearer(key.token), ip, 'home')).statusCode, 200, 'its org by slug');
  });

  it("refuses every write through a read-only key with read_only_credential, whatever the owner's role", async () => {
    const t = app();
    const { admin, key: readOnly } = await orgWithUserKey(t, 'ro', 'admin', { name: 'ro', read_only: true });
    const ip = freshAddress();
    const adminReadOnly = await createKey(t, admin, 'ro', { name: 'admin-ro', read_only: true });
    assert.equal(readOnly.read_only, true);
    for (const token of [readOnly.token, adminReadOnly.token]) {
      assert.equal((await projects(t, bearer(token), ip, 'ro')).statusCode, 200);
      assert.equal(
        (await withKey(t, token, { method: 'GET', url: '/v1/orgs/ro/audit', remoteAddress: ip })).statusCode,
        200,
        'an admin key that is read-only still reads admin routes',
      );
      const listed = await withKey(t, token, {
        method: 'GET',
        url: '/v1/orgs/ro/api-keys',
        remoteAddress: ip,
      });
      assert.equal(listed.statusCode, 200, listed.body);
      assert.ok(listed.json().data.length >= 1, 'a read-only key lists keys');
      for (const [method, url, payload] of [
        ['POST', '/v1/orgs/ro/projects', { name: 'nope' }],
        ['POST', '/v1/orgs/ro/members', { email: 'x@ro.example', name: 'x', role: 'admin' }],
        ['POST', '/v1/orgs/ro/api-keys', { name: 'a writable key' }],
        ['PATCH', '/v1/orgs/ro', { name: 'Renamed' }],
        ['PATCH', '/v1/me', { name: 'Renamed through a read-only key' }],
        ['POST', '/v1/orgs', { slug: 'ro-new', name: 'New' }],
      ] as const) {
        assertError(
          await withKey(t, token, { method, url, payload, remoteAddress: ip }),
          403,
          method === 'POST' && url === '/v1/orgs' ? 'permission_denied' : 'read_only_credential',
        );
      }
    }
  });

  it("refuses a write through a viewer's key with permission_denied and allows its reads", async () => {
    const t = app();
    const { key } = await orgWithUserKey(t, 'view', 'viewer');
    const ip = freshAddress();
    assert.equal((await projects(t, bearer(key.token), ip, 'view')).statusCode, 200);
    assertError(
      await withKey(t, key.token, {
        method: 'POST',
        url: '/v1/orgs/view/projects',
        payload: { name: 'nope' },
        remoteAddress: ip,
      }),
      403,
      'permission_denied',
    );
    assertError(
      await withKey(t, key.token, { method: 'GET', url: '/v1/orgs/view/members', remoteAddress: ip }),
      403,
      'permission_denied',
    );
  });

  it("answers a bad bearer key with its own refusal instead of falling back to the caller's session cookie", async () => {
    const t = app();
    const { member, key } = await orgWithUserKey(t, 'both');
    const ip = freshAddress();
    const del = await asBrowser(t, member, { method: 'DELETE', url: `/v1/orgs/both/api-keys/${key.id}` });
    assert.equal(del.statusCode, 204);
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/orgs/both/projects',
      remoteAddress: ip,
      cookies: member.cookies,
      headers: { authorization: bearer(key.token) },
    });
    assertError(res, 401, 'api_key_revoked', 'Authorization');
    assert.equal(
      (await asBrowser(t, member, { method: 'GET', url: '/v1/orgs/both/projects' })).statusCode,
      200,
    );
  });

  it('answers 429 too_many_failed_authentications with Retry-After once an address has used up its failures, and only that address', async (test) => {
    const t = await appWithFailureLimit(app().kind, 5, test);
    const { key } = await orgWithUserKey(t, 'acme');
    const ip = '192.0.2.10';
    for (let i = 0; i < 20; i++) assert.equal((await projects(t, bearer(key.token), ip)).statusCode, 200);
    const failures = [
      'Basic abc',
      bearer('sk-nope'),
      bearer(key.token.slice(0, -1)),
      bearer(withBadChecksum(key.token)),
      bearer(withForgedSecret(key.token)),
    ];
    for (const header of failures) assert.equal((await projects(t, header, ip)).statusCode, 401);

    const before = lookups(t);
    const blocked = await projects(t, bearer(key.token), ip);
    assertError(blocked, 429, 'too_many_failed_authentications');
    assert.equal(blocked.headers['retry-after'], '60');
    assertError(
      await projects(t, bearer(issueToken('gk_').token), ip),
      429,
      'too_many_failed_authentications',
    );
    assert.equal(lookups(t), before, 'a blocked address costs the database nothing');
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: '/v1/orgs/acme/projects',
          remoteAddress: ip,
          headers: { authorization: bearer(key.token), 'x-forwarded-for': '198.51.100.7' },
        })
      ).statusCode,
      429,
      'X-Forwarded-For from an untrusted peer does not change the address',
    );

    assert.equal((await projects(t, bearer(key.token), '192.0.2.11')).statusCode, 200, 'another address');

    t.clock.advance(30 * SECOND);
    assert.equal((await projects(t, bearer(key.token), ip)).headers['retry-after'], '30');
    t.clock.advance(30 * SECOND);
    assert.equal((await projects(t, bearer(key.token), ip)).statusCode, 200, 'a new window');
  });

  it('counts bad session cookies as failures but not refused permissions or requests without a credential', async (test) => {
    const t = await appWithFailureLimit(app().kind, 3, test);
    const { key } = await orgWithUserKey(t, 'acme', 'viewer');
    const ip = '192.0.2.20';
    for (let i = 0; i < 5; i++) {
      assertError(await projects(t, bearer(key.token), ip, 'elsewhere'), 403, 'credential_org_mismatch');
      assertError(
        await withKey(t, key.token, {
          method: 'POST',
          url: '/v1/orgs/acme/projects',
          payload: { name: 'x' },
          remoteAddress: ip,
        }),
        403,
        'permission_denied',
      );
      assertError(await projects(t, undefined, ip), 401, 'authentication_required');
    }
    assert.equal((await projects(t, bearer(key.token), ip)).statusCode, 200);

    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        remoteAddress: ip,
        cookies: { gatehouse_session: `forged-${i}` },
      });
      assert.equal(res.statusCode, 401);
    }
    assertError(await projects(t, bearer(key.token), ip), 429, 'too_many_failed_authentications');
    t.clock.advance(MINUTE);
    assert.equal((await projects(t, bearer(key.token), ip)).statusCode, 200);
  });

  it('never writes a key or its secret to the log or into any answer but the one that issued it', async () => {
    const kind = app().kind;
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
    const t = await createTestApp(kind, {}, { logger });
    try {
      const { admin, member, key } = await orgWithUserKey(t, 'quiet');
      const revoked = await createKey(t, member, 'quiet', { name: 'to revoke' });
      await asBrowser(t, member, { method: 'DELETE', url: `/v1/orgs/quiet/api-keys/${revoked.id}` });
      const expiring = await createKey(t, member, 'quiet', {
        name: 'short',
        expires_at: isoTime(t.clock.now() + MINUTE),
      });
      const rotated = await asBrowser(t, member, {
        method: 'POST',
        url: `/v1/orgs/quiet/api-keys/${key.id}/rotate`,
        payload: { overlap_seconds: 3600 },
      });
      assert.equal(rotated.statusCode, 201);
      const newToken = rotated.json().token as string;
      t.clock.advance(2 * MINUTE);
      const forged = withForgedSecret(key.token);
      const presented = [
        key.token,
        newToken,
        revoked.token,
        expiring.token,
        key.token.slice(0, -1),
        withBadChecksum(key.token),
        forged,
      ];
      const answers: LightMyRequestResponse[] = [];
      for (const [i, token] of presented.entries()) {
        answers.push(await projects(t, bearer(token), '10.99.0.1', 'quiet'));
        answers.push(await projects(t, bearer(token), '10.99.0.1', 'elsewhere'));
        answers.push(
          await withKey(t, token, {
            method: 'POST',
            url: '/v1/orgs/quiet/projects',
            payload: { name: `project-${i}` },
            remoteAddress: '10.99.0.1',
          }),
        );
        answers.push(await withKey(t, token, { method: 'GET', url: '/v1/authz/check?org=quiet' }));
        answers.push(await withKey(t, token, { method: 'GET', url: `/v1/me?token=${token}` }));
        answers.push(
          await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Basic ${token}` } }),
        );
      }
      answers.push(
        await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/quiet/api-keys?include_revoked=true' }),
      );
      answers.push(await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/quiet/audit' }));
      const statuses = new Set(answers.map((a) => a.statusCode));
      for (const status of [200, 201, 401, 403])
        assert.ok(statuses.has(status), `the requests cover a ${status} answer`);
      assert.ok(
        lines.some((l) => l.includes('api_key_secret_mismatch')),
        'refusals are logged, so the log was really captured',
      );
      const log = lines.join('');
      for (const token of presented) {
        const secret = secretOf(token);
        assert.equal(secret.length, 32);
        assert.ok(!log.includes(secret), `the log holds the secret of ${token.slice(0, 15)}…`);
        for (const answer of answers) {
          assert.ok(
            !answer.body.includes(secret),
            `${answer.statusCode} answer echoes a secret: ${answer.body}`,
          );
          assert.ok(!JSON.stringify(answer.headers).includes(secret), 'a header echoes a secret');
        }
      }
    } finally {
      await t.close();
    }
  });
});
