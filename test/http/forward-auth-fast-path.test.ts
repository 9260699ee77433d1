// The forward-auth fast path (src/http/forward-auth-fast-path.ts) answers a plain
// `GET /v1/authz/check` with an Authorization header on the HTTP server's own handler, ahead
// of Fastify. It must be indistinguishable from the route: the same status, headers and body
// for every answer, the same per-address failure limit and trusted proxies, and a hand-off
// to the route for anything else. `/v1/authz/check?` (an empty query) always reaches the route,
// so comparing the two answers compares the fast path with the route on one live server;
// gatehouse_forward_auth_fast_path_answers_total shows which one answered.
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import type { Logger } from 'pino';
import { SECOND } from '../../src/core/clock.ts';
import { issueToken } from '../../src/core/secrets.ts';
import { createLogger } from '../../src/logger.ts';
import { createKey, withBadChecksum, withForgedSecret } from '../helpers/api-keys.ts';
import { addMember, asBrowser, createTestApp, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { type Answer, overSocket } from '../helpers/socket-inject.ts';

async function fastAnswers(t: TestApp): Promise<number> {
  const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
  const line = /^gatehouse_forward_auth_fast_path_answers_total (\d+)$/m.exec(metrics.body);
  assert.ok(line, 'the fast path counter is on /metrics');
  return Number(line[1]);
}

/** What must be identical between the two answers: everything but the Date header. */
function comparable(answer: Answer) {
  const { date: _date, ...headers } = answer.headers;
  return { status: answer.statusCode, headers, body: answer.body };
}

/**
 * Sends the same check to the fast path and to the route (with one X-Request-Id, so the
 * request ids in error bodies match), asserts that only the first was answered by the fast
 * path, and returns both answers.
 */
async function bothWays(t: TestApp, headers: Record<string, string>): Promise<[Answer, Answer]> {
  const before = await fastAnswers(t);
  const fast = await overSocket(t, { method: 'GET', url: '/v1/authz/check', headers });
  assert.equal(await fastAnswers(t), before + 1, 'the plain GET took the fast path');
  const routed = await overSocket(t, { method: 'GET', url: '/v1/authz/check?', headers });
  assert.equal(await fastAnswers(t), before + 1, 'the GET with a query string took the route');
  return [fast, routed];
}

async function appWith(
  kind: TestApp['kind'],
  test: TestContext,
  env: Record<string, string>,
  logger?: Logger,
) {
  const t = await createTestApp(kind, env, logger ? { logger } : {});
  test.after(() => t.close());
  return t;
}

describeEachBackend('forward auth fast path', (app) => {
  it('answers every kind of API-key check exactly as the route does', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'fast-same');
    const dev = await addMember(t, admin, 'fast-same', 'user', 'dev@fast-same.example');
    const key = await createKey(t, dev, 'fast-same');
    const readOnly = await createKey(t, dev, 'fast-same', { name: 'ro', read_only: true });
    const revoked = await createKey(t, dev, 'fast-same', { name: 'gone' });
    await asBrowser(t, dev, { method: 'DELETE', url: `/v1/orgs/fast-same/api-keys/${revoked.id}` });

    const cases: [string, Record<string, string>, number, string | undefined][] = [
      ['valid key', { authorization: `Bearer ${key.token}` }, 200, undefined],
      ['read-only key, reading', { authorization: `Bearer ${readOnly.token}` }, 200, undefined],
      [
        'read-only key, a forwarded write',
        { authorization: `Bearer ${readOnly.token}`, 'x-forwarded-method': 'DELETE' },
        403,
        'read_only_credential',
      ],
      [
        'bad checksum',
        { authorization: `Bearer ${withBadChecksum(key.token)}` },
        401,
        'api_key_checksum_mismatch',
      ],
      [
        'wrong secret',
        { authorization: `Bearer ${withForgedSecret(key.token)}` },
        401,
        'api_key_secret_mismatch',
      ],
      ['unknown key', { authorization: `Bearer ${issueToken('gk_').token}` }, 401, 'api_key_unknown'],
      ['revoked key', { authorization: `Bearer ${revoked.token}` }, 401, 'api_key_revoked'],
      ['not a key', { authorization: 'Bearer gk_nope' }, 401, 'api_key_malformed'],
      ['not a bearer', { authorization: 'Basic abc' }, 401, 'malformed_authorization_header'],
    ];
    for (const [name, headers, status, code] of cases) {
      const [fast, routed] = await bothWays(t, { ...headers, 'x-request-id': `req-fast-same-${status}` });
      assert.equal(fast.statusCode, status, `${name}: ${fast.body}`);
      if (code !== undefined) assert.equal(fast.json().error.code, code, name);
      assert.deepEqual(comparable(fast), comparable(routed), name);
      assert.equal(
        fast.headers['x-request-id'],
        `req-fast-same-${status}`,
        `${name}: the proxy's request id is kept`,
      );
    }
    const [fast] = await bothWays(t, { authorization: `Bearer ${key.token}` });
    assert.equal(fast.headers['x-gatehouse-role'], 'user');
    assert.match(String(fast.headers['x-request-id']), /^req_/, 'a request id is made when none is sent');
  });

  it('follows the live role and suspension like the route', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'fast-live');
    const dev = await addMember(t, admin, 'fast-live', 'admin', 'dev@fast-live.example');
    const { token } = await createKey(t, dev, 'fast-live');
    const authorization = `Bearer ${token}`;
    assert.equal((await bothWays(t, { authorization }))[0].headers['x-gatehouse-role'], 'admin');
    const member = `/v1/orgs/fast-live/members/${dev.userId}`;
    await asBrowser(t, admin, { method: 'PATCH', url: member, payload: { role: 'viewer' } });
    const [demoted, routed] = await bothWays(t, { authorization, 'x-request-id': 'req-fast-live-1' });
    assert.equal(demoted.headers['x-gatehouse-role'], 'viewer');
    assert.equal(demoted.headers['x-gatehouse-read-only'], 'true', "a viewer's key only reads");
    assert.deepEqual(comparable(demoted), comparable(routed));
    // The answer rendered for the credential follows the role back (it is rendered once per
    // principal and org access, not per principal).
    await asBrowser(t, admin, { method: 'PATCH', url: member, payload: { role: 'admin' } });
    const [promoted] = await bothWays(t, { authorization });
    assert.equal(promoted.headers['x-gatehouse-role'], 'admin');
    assert.equal(promoted.headers['x-gatehouse-read-only'], 'false');
    await asBrowser(t, admin, { method: 'PATCH', url: member, payload: { status: 'suspended' } });
    const [suspended] = await bothWays(t, { authorization });
    assert.equal(suspended.statusCode, 401);
    assert.equal(suspended.json().error.code, 'api_key_owner_inactive');
  });

  it('leaves to the route what it does not serve: cookies, other methods, a query string', async () => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'fast-handoff');
    const { token } = await createKey(t, admin, 'fast-handoff');
    const before = await fastAnswers(t);
    const withCookie = await overSocket(t, { method: 'GET', url: '/v1/authz/check', cookies: admin.cookies });
    assert.equal(withCookie.statusCode, 200, withCookie.body);
    assert.equal(withCookie.headers['x-gatehouse-auth-method'], 'session:password');
    const post = await overSocket(t, {
      method: 'POST',
      url: '/v1/authz/check',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(post.statusCode, 200, post.body);
    const scoped = await overSocket(t, {
      method: 'GET',
      url: '/v1/authz/check?org=fast-handoff&permission=projects:write',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(scoped.headers['x-gatehouse-org'], orgId);
    const anonymous = await overSocket(t, { method: 'GET', url: '/v1/authz/check' });
    assert.equal(anonymous.json().error.code, 'authentication_required');
    assert.equal(await fastAnswers(t), before, 'none of these took the fast path');
  });

  it('counts refusals against the same per-address limit, with the proxies GATEHOUSE_TRUST_PROXY names', async (test) => {
    const t = await appWith(app().kind, test, {
      GATEHOUSE_AUTH_FAILURES_PER_MINUTE: '3',
      GATEHOUSE_TRUST_PROXY: '127.0.0.1',
    });
    const { admin } = await setUpOrgWithAdmin(t, 'fast-limit');
    const { token } = await createKey(t, admin, 'fast-limit');
    const from = (address: string, authorization: string) =>
      overSocket(t, {
        method: 'GET',
        url: '/v1/authz/check',
        headers: { authorization, 'x-forwarded-for': address },
      });
    const before = await fastAnswers(t);
    for (let i = 0; i < 3; i++)
      assert.equal((await from('203.0.113.5', `Bearer ${issueToken('gk_').token}`)).statusCode, 401);
    const blocked = await from('203.0.113.5', `Bearer ${token}`);
    assert.equal(blocked.statusCode, 429, blocked.body);
    assert.equal(blocked.json().error.code, 'too_many_failed_authentications');
    assert.equal(blocked.headers['retry-after'], '60');
    assert.equal((await from('203.0.113.6', `Bearer ${token}`)).statusCode, 200, 'another client address');
    assert.equal(await fastAnswers(t), before + 5);
    const routed = await overSocket(t, {
      method: 'GET',
      url: '/v1/authz/check?',
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.5' },
    });
    assert.equal(routed.statusCode, 429, 'the route sees the same window');
    t.clock.advance(61 * SECOND);
    assert.equal((await from('203.0.113.5', `Bearer ${token}`)).statusCode, 200, 'the window has passed');
  });

  it('is off when info logging is on, so every request keeps its log lines', async (test) => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const t = await appWith(app().kind, test, {}, logger);
    const { admin } = await setUpOrgWithAdmin(t, 'fast-info');
    const { token } = await createKey(t, admin, 'fast-info');
    const answer = await overSocket(t, {
      method: 'GET',
      url: '/v1/authz/check',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-fast-info-1' },
    });
    assert.equal(answer.statusCode, 200);
    assert.equal(await fastAnswers(t), 0);
    assert.ok(
      lines.some((line) => line.includes('req-fast-info-1') && line.includes('request completed')),
      'Fastify logged the check',
    );
  });
});
