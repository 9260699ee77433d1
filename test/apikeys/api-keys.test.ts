// API keys over /v1 (SPEC §2, §4): creating, listing, reading and revoking them, who may
// see whose, keys of service accounts, the live role a key inherits, rotation with an
// overlap window, what tenancy changes do to keys, the audit trail and batched last use.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DAY, HOUR, isoTime, MINUTE } from '../../src/core/clock.ts';
import {
  type ApiKeyBody,
  assertError,
  createKey,
  type IssuedKeyBody,
  keyIdOf,
  secretOf,
  TOKEN_PATTERN,
  withKey,
} from '../helpers/api-keys.ts';
import {
  addMember,
  asBrowser,
  type Browser,
  setUpOrgWithAdmin,
  signIn,
  type TestApp,
} from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

interface KeyPage {
  data: ApiKeyBody[];
  next_cursor: string | null;
}

interface RotatedKeyBody extends IssuedKeyBody {
  previous: ApiKeyBody;
}

interface AuditEvent {
  action: string;
  actor: { kind: string; id: string | null };
  target: { kind: string; id: string } | null;
  data: Record<string, unknown>;
}

async function listKeys(t: TestApp, as: Browser, org: string, query = ''): Promise<KeyPage> {
  const res = await asBrowser(t, as, { method: 'GET', url: `/v1/orgs/${org}/api-keys${query}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

async function getKey(t: TestApp, as: Browser, org: string, id: string): Promise<ApiKeyBody> {
  const res = await asBrowser(t, as, { method: 'GET', url: `/v1/orgs/${org}/api-keys/${id}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

function revokeKey(t: TestApp, as: Browser, org: string, id: string) {
  return asBrowser(t, as, { method: 'DELETE', url: `/v1/orgs/${org}/api-keys/${id}` });
}

async function rotateKey(
  t: TestApp,
  as: Browser,
  org: string,
  id: string,
  payload?: { overlap_seconds?: number; expires_at?: string | null },
): Promise<RotatedKeyBody> {
  const res = await asBrowser(t, as, {
    method: 'POST',
    url: `/v1/orgs/${org}/api-keys/${id}/rotate`,
    ...(payload ? { payload } : {}),
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

async function auditEvents(t: TestApp, admin: Browser, org: string, action: string): Promise<AuditEvent[]> {
  const res = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/${org}/audit?action=${action}` });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json().data as AuditEvent[]).reverse();
}

const listProjects = (t: TestApp, token: string, org: string) =>
  withKey(t, token, { method: 'GET', url: `/v1/orgs/${org}/projects` });
const createProject = (t: TestApp, token: string, org: string, name: string) =>
  withKey(t, token, { method: 'POST', url: `/v1/orgs/${org}/projects`, payload: { name } });

async function createServiceAccount(t: TestApp, admin: Browser, org: string, name: string, role: string) {
  const res = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${org}/service-accounts`,
    payload: { name, role },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { id: string };
}

describeEachBackend('API keys', (app) => {
  it('creates a key for the caller, shows the token only in the create answer, and accepts it as a bearer credential', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'issue');
    const dev = await addMember(t, admin, 'issue', 'user', 'dev@issue.example');
    const issued = await createKey(t, dev, 'issue', { name: '  deploy bot  ' });
    assert.match(issued.token, TOKEN_PATTERN);
    assert.match(issued.id, /^key_[0-9a-z]{26}$/);
    const { token, ...summary } = issued;
    assert.deepEqual(summary, {
      id: issued.id,
      name: 'deploy bot',
      prefix: `gk_${keyIdOf(token)}`,
      owner: { kind: 'user', id: dev.userId },
      read_only: false,
      status: 'active',
      created_at: isoTime(t.clock.now()),
      created_by: dev.userId,
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
      rotated_from: null,
      replaced_by: null,
    });

    const read = await asBrowser(t, dev, { method: 'GET', url: `/v1/orgs/issue/api-keys/${issued.id}` });
    assert.deepEqual(read.json(), summary);
    const list = await asBrowser(t, dev, { method: 'GET', url: '/v1/orgs/issue/api-keys' });
    assert.deepEqual(list.json(), { data: [summary], next_cursor: null });
    for (const res of [read, list])
      assert.ok(!res.body.includes(secretOf(token)), 'the secret is shown once');

    const me = await withKey(t, token, { method: 'GET', url: '/v1/me' });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(me.json().principal, { kind: 'user', id: dev.userId, auth_method: 'api_key' });
    assert.deepEqual(
      me.json().orgs.map((o: { slug: string; role: string }) => [o.slug, o.role]),
      [['issue', 'user']],
    );
    assert.equal(me.json().csrf_token, undefined, 'a bearer credential needs no CSRF token');
    const project = await createProject(t, token, 'issue', 'made-with-a-key');
    assert.equal(project.statusCode, 201, project.body);
  });

  it('refuses a blank name, an unknown field and an expiry that is not a future date-time, naming the field', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'badbody');
    const post = (payload: Record<string, unknown>) =>
      asBrowser(t, admin, { method: 'POST', url: '/v1/orgs/badbody/api-keys', payload });
    for (const [payload, field] of [
      [{ name: '   ' }, 'name'],
      [{}, 'name'],
      [{ name: 'x', scopes: ['all'] }, 'scopes'],
      [{ name: 'x', read_only: 'yes' }, 'read_only'],
      [{ name: 'x', expires_at: 'next tuesday' }, 'expires_at'],
    ] as const) {
      const res = await post(payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
      assert.equal(res.json().error.field, field, res.body);
    }
    for (const at of [t.clock.now() - MINUTE, t.clock.now()]) {
      assertError(
        await post({ name: 'x', expires_at: isoTime(at) }),
        400,
        'api_key_invalid_expiry',
        'expires_at',
      );
    }
    assert.deepEqual((await listKeys(t, admin, 'badbody')).data, [], 'nothing was created');
  });

  it("keeps each member to their own keys and lets an admin list, filter and revoke every member's keys", async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'scope');
    const alice = await addMember(t, admin, 'scope', 'user', 'alice@scope.example');
    const bob = await addMember(t, admin, 'scope', 'user', 'bob@scope.example');
    const aliceKey = await createKey(t, alice, 'scope', { name: 'alice-ci' });
    const bobKey = await createKey(t, bob, 'scope', { name: 'bob-ci' });

    assert.deepEqual(
      (await listKeys(t, alice, 'scope')).data.map((k) => k.id),
      [aliceKey.id],
    );
    assert.deepEqual(
      (await listKeys(t, alice, 'scope', `?owner_id=${alice.userId}`)).data.map((k) => k.id),
      [aliceKey.id],
    );
    assertError(
      await asBrowser(t, alice, { method: 'GET', url: `/v1/orgs/scope/api-keys?owner_id=${bob.userId}` }),
      403,
      'api_key_management_forbidden',
      'owner_id',
    );
    for (const [method, url] of [
      ['GET', `/v1/orgs/scope/api-keys/${bobKey.id}`],
      ['DELETE', `/v1/orgs/scope/api-keys/${bobKey.id}`],
      ['POST', `/v1/orgs/scope/api-keys/${bobKey.id}/rotate`],
    ] as const) {
      assertError(await asBrowser(t, alice, { method, url }), 404, 'api_key_not_found', 'api_key_id');
    }
    assert.equal((await listProjects(t, bobKey.token, 'scope')).statusCode, 200, "bob's key still works");

    assert.deepEqual(
      (await listKeys(t, admin, 'scope')).data.map((k) => k.id).sort(),
      [aliceKey.id, bobKey.id].sort(),
    );
    assert.deepEqual(
      (await listKeys(t, admin, 'scope', `?owner_id=${bob.userId}`)).data.map((k) => k.id),
      [bobKey.id],
    );
    assert.equal((await getKey(t, admin, 'scope', bobKey.id)).owner.id, bob.userId);

    t.clock.advance(1000);
    assert.equal((await revokeKey(t, admin, 'scope', bobKey.id)).statusCode, 204);
    assertError(await listProjects(t, bobKey.token, 'scope'), 401, 'api_key_revoked');
    assert.equal(
      (await revokeKey(t, admin, 'scope', bobKey.id)).statusCode,
      204,
      'revoking again is a no-op',
    );
    assert.equal((await revokeKey(t, bob, 'scope', bobKey.id)).statusCode, 204);

    assert.deepEqual(
      (await listKeys(t, bob, 'scope')).data,
      [],
      'revoked keys are hidden from the list by default',
    );
    const withRevoked = (await listKeys(t, bob, 'scope', '?include_revoked=true')).data;
    assert.deepEqual(
      withRevoked.map((k) => [k.id, k.status, k.revoked_at]),
      [[bobKey.id, 'revoked', isoTime(t.clock.now())]],
    );
    const revocations = await auditEvents(t, admin, 'scope', 'api_key.revoked');
    assert.deepEqual(
      revocations.map((e) => [e.target?.id, e.actor.id, e.data.reason]),
      [[bobKey.id, admin.userId, 'revoked_by_admin']],
      'only the first revocation is recorded',
    );
  });

  it('pages through the keys of an org in creation order', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'paging');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await createKey(t, admin, 'paging', { name: `key-${i}` })).id);
      t.clock.advance(1);
    }
    const first = await listKeys(t, admin, 'paging', '?limit=2');
    assert.equal(first.data.length, 2);
    assert.ok(first.next_cursor);
    const second = await listKeys(t, admin, 'paging', `?limit=2&cursor=${first.next_cursor}`);
    assert.equal(second.next_cursor, null);
    assert.deepEqual(
      [...first.data, ...second.data].map((k) => k.id),
      ids,
    );
  });

  it("lets only admins make keys for a service account of their org, and such a key acts with the account's live role", async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'robots');
    const other = await setUpOrgWithAdmin(t, 'robots-other');
    const dev = await addMember(t, admin, 'robots', 'user', 'dev@robots.example');
    const account = await createServiceAccount(t, admin, 'robots', 'gateway', 'viewer');
    const foreign = await createServiceAccount(t, other.admin, 'robots-other', 'theirs', 'admin');

    assertError(
      await asBrowser(t, dev, {
        method: 'POST',
        url: '/v1/orgs/robots/api-keys',
        payload: { name: 'sneaky', service_account_id: account.id },
      }),
      403,
      'api_key_management_forbidden',
      'service_account_id',
    );
    assertError(
      await asBrowser(t, admin, {
        method: 'POST',
        url: '/v1/orgs/robots/api-keys',
        payload: { name: 'theirs', service_account_id: foreign.id },
      }),
      404,
      'service_account_not_found',
      'service_account_id',
    );

    const key = await createKey(t, admin, 'robots', { name: 'gateway-key', service_account_id: account.id });
    assert.deepEqual(key.owner, { kind: 'service_account', id: account.id });
    assert.equal(key.created_by, admin.userId);
    assert.deepEqual(
      (await listKeys(t, admin, 'robots', `?owner_id=${account.id}`)).data.map((k) => k.id),
      [key.id],
    );
    assert.deepEqual((await listKeys(t, dev, 'robots')).data, [], "a member does not see the account's keys");

    assert.equal((await listProjects(t, key.token, 'robots')).statusCode, 200);
    assertError(await createProject(t, key.token, 'robots', 'as-viewer'), 403, 'permission_denied');
    const promote = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/robots/service-accounts/${account.id}`,
      payload: { role: 'user' },
    });
    assert.equal(promote.statusCode, 200, promote.body);
    assert.equal((await createProject(t, key.token, 'robots', 'as-user')).statusCode, 201);

    // With its own key, the account manages its own keys like any member.
    const own = await withKey(t, key.token, {
      method: 'POST',
      url: '/v1/orgs/robots/api-keys',
      payload: { name: 'minted-by-the-account' },
    });
    assert.equal(own.statusCode, 201, own.body);
    assert.deepEqual(own.json().owner, { kind: 'service_account', id: account.id });
    assert.equal(own.json().created_by, null, 'created_by names people only');
    const seen = await withKey(t, key.token, { method: 'GET', url: '/v1/orgs/robots/api-keys' });
    assert.deepEqual((seen.json() as KeyPage).data.map((k) => k.id).sort(), [key.id, own.json().id].sort());
  });

  it("follows the owner's live role: a demoted user's key loses writes at once, a promoted one gains admin routes", async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'live');
    const dev = await addMember(t, admin, 'live', 'user', 'dev@live.example');
    const { token } = await createKey(t, dev, 'live');
    assert.equal((await createProject(t, token, 'live', 'before')).statusCode, 201);
    assertError(
      await withKey(t, token, { method: 'GET', url: '/v1/orgs/live/audit' }),
      403,
      'permission_denied',
    );

    const setRole = (role: string) =>
      asBrowser(t, admin, { method: 'PATCH', url: `/v1/orgs/live/members/${dev.userId}`, payload: { role } });
    assert.equal((await setRole('viewer')).statusCode, 200);
    assertError(await createProject(t, token, 'live', 'after-demotion'), 403, 'permission_denied');
    assert.equal((await listProjects(t, token, 'live')).statusCode, 200, 'a viewer may still read');

    assert.equal((await setRole('admin')).statusCode, 200);
    const audit = await withKey(t, token, { method: 'GET', url: '/v1/orgs/live/audit' });
    assert.equal(audit.statusCode, 200, audit.body);
    const everyKey = await withKey(t, token, { method: 'GET', url: '/v1/orgs/live/api-keys' });
    assert.equal(everyKey.statusCode, 200);
    assert.ok(
      (everyKey.json() as KeyPage).data.some((k) => k.owner.id === dev.userId),
      'as admin the key lists the keys of the org',
    );
  });

  it('rotates a key: the new token works at once and the old one until the overlap ends, then answers api_key_expired', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'rotate');
    const dev = await addMember(t, admin, 'rotate', 'user', 'dev@rotate.example');
    const old = await createKey(t, dev, 'rotate', { name: 'pipeline', read_only: true });
    assert.equal((await listProjects(t, old.token, 'rotate')).statusCode, 200);

    t.clock.advance(MINUTE);
    const rotatedAt = t.clock.now();
    const rotated = await rotateKey(t, dev, 'rotate', old.id, { overlap_seconds: 600 });
    assert.match(rotated.token, TOKEN_PATTERN);
    assert.notEqual(rotated.token, old.token);
    assert.notEqual(rotated.id, old.id);
    assert.notEqual(keyIdOf(rotated.token), keyIdOf(old.token));
    assert.deepEqual(
      [rotated.name, rotated.read_only, rotated.owner, rotated.rotated_from, rotated.status],
      ['pipeline', true, { kind: 'user', id: dev.userId }, old.id, 'active'],
    );
    assert.deepEqual(
      [
        rotated.previous.id,
        rotated.previous.replaced_by,
        rotated.previous.expires_at,
        rotated.previous.status,
      ],
      [old.id, rotated.id, isoTime(rotatedAt + 600_000), 'active'],
    );
    assert.deepEqual(await getKey(t, dev, 'rotate', old.id), rotated.previous);

    assert.equal((await listProjects(t, rotated.token, 'rotate')).statusCode, 200);
    assertError(await createProject(t, rotated.token, 'rotate', 'x'), 403, 'read_only_credential');
    t.clock.advance(600_000 - 1);
    assert.equal((await listProjects(t, old.token, 'rotate')).statusCode, 200, 'inside the overlap');
    t.clock.advance(1);
    assertError(await listProjects(t, old.token, 'rotate'), 401, 'api_key_expired');
    assert.equal((await listProjects(t, rotated.token, 'rotate')).statusCode, 200);
    assert.equal((await getKey(t, dev, 'rotate', old.id)).status, 'expired');

    assertError(
      await asBrowser(t, dev, { method: 'POST', url: `/v1/orgs/rotate/api-keys/${old.id}/rotate` }),
      409,
      'api_key_inactive',
      'api_key_id',
    );
  });

  it('rotates with a one-day overlap by default, never lets the old key outlive its own expiry, and takes 0 to end it now', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'overlap');
    const plain = await createKey(t, admin, 'overlap', { name: 'plain' });
    const rotated = await rotateKey(t, admin, 'overlap', plain.id);
    assert.equal(rotated.previous.expires_at, isoTime(t.clock.now() + 86_400_000));

    const soonExpiry = isoTime(t.clock.now() + HOUR);
    const soon = await createKey(t, admin, 'overlap', { name: 'soon', expires_at: soonExpiry });
    const rotatedSoon = await rotateKey(t, admin, 'overlap', soon.id, { overlap_seconds: 7200 });
    assert.equal(rotatedSoon.previous.expires_at, soonExpiry);

    const now = await createKey(t, admin, 'overlap', { name: 'now' });
    const rotatedNow = await rotateKey(t, admin, 'overlap', now.id, { overlap_seconds: 0 });
    assert.equal(rotatedNow.previous.status, 'expired');
    assertError(await listProjects(t, now.token, 'overlap'), 401, 'api_key_expired');
    assert.equal((await listProjects(t, rotatedNow.token, 'overlap')).statusCode, 200);

    const other = await createKey(t, admin, 'overlap', { name: 'other' });
    for (const payload of [
      { overlap_seconds: -1 },
      { overlap_seconds: 2_592_001 },
      { overlap_seconds: 1.5 },
    ]) {
      const res = await asBrowser(t, admin, {
        method: 'POST',
        url: `/v1/orgs/overlap/api-keys/${other.id}/rotate`,
        payload,
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error.field, 'overlap_seconds');
    }
    assert.equal(
      (await rotateKey(t, admin, 'overlap', other.id, { overlap_seconds: 2_592_000 })).status,
      'active',
    );

    assert.equal((await revokeKey(t, admin, 'overlap', rotated.id)).statusCode, 204);
    assertError(await listProjects(t, rotated.token, 'overlap'), 401, 'api_key_revoked');
    assert.equal(
      (await listProjects(t, plain.token, 'overlap')).statusCode,
      200,
      'revoking the new key leaves the old one to its overlap',
    );
    assertError(
      await asBrowser(t, admin, { method: 'POST', url: `/v1/orgs/overlap/api-keys/${rotated.id}/rotate` }),
      409,
      'api_key_inactive',
    );
  });

  it('renews the lifetime on rotation: the successor lives as long as the old key did, from now, unless told otherwise', async () => {
    const t = app();
    const { admin: firstSession } = await setUpOrgWithAdmin(t, 'renew');
    const created = t.clock.now();
    const monthly = await createKey(t, firstSession, 'renew', {
      name: 'monthly',
      expires_at: isoTime(created + 30 * DAY),
    });
    t.clock.advance(29 * DAY);
    // Sessions last at most 7 days: sign in again, as the admin would.
    const admin = await signIn(t, 'admin@renew.example');
    const renewed = await rotateKey(t, admin, 'renew', monthly.id);
    assert.equal(renewed.expires_at, isoTime(t.clock.now() + 30 * DAY), 'a fresh 30 days');
    assert.equal(renewed.previous.expires_at, isoTime(created + 30 * DAY), 'the old key keeps its own end');

    const forever = await rotateKey(t, admin, 'renew', renewed.id, { expires_at: null });
    assert.equal(forever.expires_at, null);
    const dated = await rotateKey(t, admin, 'renew', forever.id, {
      expires_at: isoTime(t.clock.now() + HOUR),
    });
    assert.equal(dated.expires_at, isoTime(t.clock.now() + HOUR));
    assertError(
      await asBrowser(t, admin, {
        method: 'POST',
        url: `/v1/orgs/renew/api-keys/${dated.id}/rotate`,
        payload: { expires_at: isoTime(t.clock.now() - 1000) },
      }),
      400,
      'api_key_invalid_expiry',
      'expires_at',
    );
  });

  it("lets a service account's key see its org on /v1/me but edit no profile", async () => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'me-sva');
    const account = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/me-sva/service-accounts',
      payload: { name: 'bot', role: 'user' },
    });
    const { token } = await createKey(t, admin, 'me-sva', {
      name: 'bot',
      service_account_id: account.json().id,
    });
    const me = await withKey(t, token, { method: 'GET', url: '/v1/me' });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual(
      me.json().orgs.map((o: { id: string; role: string }) => [o.id, o.role]),
      [[orgId, 'user']],
    );
    assertError(
      await withKey(t, token, { method: 'PATCH', url: '/v1/me', payload: { name: 'x' } }),
      403,
      'permission_denied',
    );
  });

  it('issues one successor when the same key is rotated twice at once', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'race');
    const key = await createKey(t, admin, 'race', { name: 'raced' });
    const answers = await Promise.all(
      [0, 1, 2].map(() =>
        asBrowser(t, admin, { method: 'POST', url: `/v1/orgs/race/api-keys/${key.id}/rotate` }),
      ),
    );
    const won = answers.filter((a) => a.statusCode === 201);
    assert.equal(won.length, 1, answers.map((a) => `${a.statusCode} ${a.body.slice(0, 80)}`).join('\n'));
    for (const lost of answers.filter((a) => a !== won[0])) assertError(lost, 409, 'api_key_inactive');
    const keys = (await listKeys(t, admin, 'race')).data;
    assert.deepEqual(keys.map((k) => k.id).sort(), [key.id, won[0]?.json().id].sort());
    assert.equal(keys.find((k) => k.id === key.id)?.replaced_by, won[0]?.json().id);
    assert.equal((await auditEvents(t, admin, 'race', 'api_key.rotated')).length, 1);
  });

  it("revokes a member's keys in an org when they are removed from it, and only there, for good", async () => {
    const t = app();
    const a = await setUpOrgWithAdmin(t, 'leave-a');
    const b = await setUpOrgWithAdmin(t, 'leave-b');
    const dev = await addMember(t, a.admin, 'leave-a', 'user', 'dev@leave.example');
    const join = await asBrowser(t, b.admin, {
      method: 'POST',
      url: '/v1/orgs/leave-b/members',
      payload: { email: 'dev@leave.example', name: 'dev', role: 'user' },
    });
    assert.equal(join.statusCode, 201, join.body);
    const keyA = await createKey(t, dev, 'leave-a', { name: 'a' });
    const keyB = await createKey(t, dev, 'leave-b', { name: 'b' });
    assert.equal((await listProjects(t, keyA.token, 'leave-a')).statusCode, 200);

    t.clock.advance(1000);
    const removed = await asBrowser(t, a.admin, {
      method: 'DELETE',
      url: `/v1/orgs/leave-a/members/${dev.userId}`,
    });
    assert.equal(removed.statusCode, 204, removed.body);
    assertError(await listProjects(t, keyA.token, 'leave-a'), 401, 'api_key_revoked');
    assert.equal(
      (await listProjects(t, keyB.token, 'leave-b')).statusCode,
      200,
      'the other org is untouched',
    );

    const listed = await listKeys(t, a.admin, 'leave-a', `?owner_id=${dev.userId}&include_revoked=true`);
    assert.deepEqual(
      listed.data.map((k) => [k.id, k.status, k.revoked_at]),
      [[keyA.id, 'revoked', isoTime(t.clock.now())]],
    );
    const events = await auditEvents(t, a.admin, 'leave-a', 'api_key.revoked');
    assert.deepEqual(
      events.map((e) => [e.target, e.data.reason]),
      [[{ kind: 'api_key', id: keyA.id }, 'owner_removed_from_org']],
    );
    assert.deepEqual(await auditEvents(t, b.admin, 'leave-b', 'api_key.revoked'), []);

    const rejoin = await asBrowser(t, a.admin, {
      method: 'POST',
      url: '/v1/orgs/leave-a/members',
      payload: { email: 'dev@leave.example', name: 'dev', role: 'user' },
    });
    assert.equal(rejoin.statusCode, 201, rejoin.body);
    // Rejoining does not revive old keys.
    assertError(await listProjects(t, keyA.token, 'leave-a'), 401, 'api_key_revoked');
  });

  it("revokes a service account's keys when the account is deleted, with an audit event for each", async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'sva-gone');
    const account = await createServiceAccount(t, admin, 'sva-gone', 'batch', 'user');
    const first = await createKey(t, admin, 'sva-gone', { name: 'one', service_account_id: account.id });
    const second = await createKey(t, admin, 'sva-gone', { name: 'two', service_account_id: account.id });
    assert.equal((await listProjects(t, first.token, 'sva-gone')).statusCode, 200);

    const del = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/sva-gone/service-accounts/${account.id}`,
    });
    assert.equal(del.statusCode, 204, del.body);
    for (const key of [first, second])
      assertError(await listProjects(t, key.token, 'sva-gone'), 401, 'api_key_revoked');
    const events = await auditEvents(t, admin, 'sva-gone', 'api_key.revoked');
    assert.deepEqual(
      events.map((e) => [e.target?.id, e.data.reason]).sort(),
      [
        [first.id, 'service_account_deleted'],
        [second.id, 'service_account_deleted'],
      ].sort(),
    );
  });

  it('records created, rotated and revoked with the key id as target and the caller as actor, and never the token', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'trail');
    const dev = await addMember(t, admin, 'trail', 'user', 'dev@trail.example');
    const key = await createKey(t, dev, 'trail', { name: 'audited', read_only: true });
    const rotated = await rotateKey(t, dev, 'trail', key.id, { overlap_seconds: 60 });
    assert.equal((await revokeKey(t, dev, 'trail', rotated.id)).statusCode, 204);

    const events = await auditEvents(t, admin, 'trail', 'api_key.*');
    assert.deepEqual(
      events.map((e) => [e.action, e.target, e.actor]),
      [
        ['api_key.created', { kind: 'api_key', id: key.id }, { kind: 'user', id: dev.userId }],
        ['api_key.rotated', { kind: 'api_key', id: key.id }, { kind: 'user', id: dev.userId }],
        ['api_key.revoked', { kind: 'api_key', id: rotated.id }, { kind: 'user', id: dev.userId }],
      ],
    );
    assert.deepEqual(events[0]?.data, {
      name: 'audited',
      prefix: key.prefix,
      owner: { kind: 'user', id: dev.userId },
      read_only: true,
      expires_at: null,
    });
    assert.equal(events[1]?.data.replaced_by, rotated.id);
    assert.equal(events[2]?.data.reason, 'revoked_by_owner');

    const stored = JSON.stringify(await t.database.db.selectFrom('audit_events').selectAll().execute());
    for (const token of [key.token, rotated.token]) {
      assert.ok(!stored.includes(secretOf(token)), 'no secret in any stored audit event');
      assert.ok(!stored.includes(token));
    }
  });

  it("shows this node's latest use of a key at once but writes last_used_at only when the batch is flushed", async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'usage');
    const key = await createKey(t, admin, 'usage', { name: 'busy' });
    const stored = async () =>
      (
        await t.database.db
          .selectFrom('api_keys')
          .select('last_used_at')
          .where('id', '=', key.id)
          .executeTakeFirstOrThrow()
      ).last_used_at;

    t.clock.advance(1000);
    for (let i = 0; i < 5; i++) assert.equal((await listProjects(t, key.token, 'usage')).statusCode, 200);
    t.clock.advance(5000);
    const latest = t.clock.now();
    assert.equal((await listProjects(t, key.token, 'usage')).statusCode, 200);

    assert.equal((await getKey(t, admin, 'usage', key.id)).last_used_at, isoTime(latest));
    assert.equal(await stored(), null, 'six requests, no write');

    const ctx = t.services.systemContext('test');
    assert.ok((await t.services.apiKeys.flushUsage(ctx)) >= 1);
    assert.equal(Number(await stored()), latest);
    assert.equal((await getKey(t, admin, 'usage', key.id)).last_used_at, isoTime(latest));
    assert.equal(await t.services.apiKeys.flushUsage(ctx), 0, 'nothing new to write');

    t.clock.advance(MINUTE);
    assert.equal((await listProjects(t, key.token, 'usage')).statusCode, 200);
    assert.equal(Number(await stored()), latest, 'the next use waits for the next flush');
    assert.equal(await t.services.apiKeys.flushUsage(ctx), 1);
    assert.equal(Number(await stored()), t.clock.now());
  });
});
