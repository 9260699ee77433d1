// What SCIM does to a person's access (SPEC §5): an IdP that links an existing member and
// then deactivates them closes every door in that org at once — the session ends, their API
// keys in the org are revoked, their org access is refused — and reactivation gives back the
// org, not the revoked credentials. DELETE takes them out of the org. Group changes re-run
// the org's role rules for members whose role SCIM decides, never for a role pinned by hand.
// Someone else's account cannot be pulled in by email. Everything is audited with the SCIM
// token as the actor.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createKey, withKey } from '../helpers/api-keys.ts';
import {
  addMember,
  asBrowser,
  type Browser,
  setUpOrgWithAdmin,
  signIn,
  type TestApp,
} from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

async function scimTokenFor(t: TestApp, admin: Browser, org: string): Promise<{ id: string; token: string }> {
  const created = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${org}/scim-tokens`,
    payload: { name: 'Okta' },
  });
  assert.equal(created.statusCode, 201, created.body);
  return created.json() as { id: string; token: string };
}

function provision(t: TestApp, token: string, email: string, extra: Record<string, unknown> = {}) {
  return withKey(t, token, {
    method: 'POST',
    url: '/scim/v2/Users',
    payload: {
      schemas: [USER],
      userName: email,
      name: { givenName: 'Pat', familyName: 'Lee' },
      emails: [{ primary: true, value: email, type: 'work' }],
      active: true,
      ...extra,
    },
  });
}

function setActive(t: TestApp, token: string, id: string, active: boolean) {
  return withKey(t, token, {
    method: 'PATCH',
    url: `/scim/v2/Users/${id}`,
    payload: { schemas: [PATCH], Operations: [{ op: 'replace', value: { active } }] },
  });
}

async function auditEvents(t: TestApp, admin: Browser, org: string) {
  const res = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/${org}/audit?limit=200` });
  assert.equal(res.statusCode, 200, res.body);
  return (
    res.json() as {
      data: { action: string; actor: { kind: string; id: string | null }; target: { id: string } | null }[];
    }
  ).data;
}

async function memberRole(t: TestApp, admin: Browser, org: string, userId: string): Promise<string> {
  const res = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/${org}/members/${userId}` });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { role: string }).role;
}

describeEachBackend('SCIM deprovisioning and role rules', (get) => {
  it('deactivation ends the session and revokes the keys in one step; reactivation restores only org access', async () => {
    const t = get();
    const { admin } = await setUpOrgWithAdmin(t, 'deprov');
    const scim = await scimTokenFor(t, admin, 'deprov');
    const member = await addMember(t, admin, 'deprov', 'user', 'pat@deprov.example');
    const key = await createKey(t, member, 'deprov', { name: 'laptop' });
    assert.equal((await withKey(t, key.token, { method: 'GET', url: '/v1/orgs/deprov' })).statusCode, 200);

    // The IdP pushes the person the admin had added: linked, not duplicated.
    const linked = await provision(t, scim.token, 'PAT@deprov.example');
    assert.equal(linked.statusCode, 201, linked.body);
    const id = (linked.json() as { id: string }).id;
    assert.equal(id, member.userId);

    const off = await setActive(t, scim.token, id, false);
    assert.equal(off.statusCode, 200, off.body);
    assert.equal((off.json() as { active: boolean }).active, false);
    const sessionAfter = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: member.cookies });
    assert.equal(sessionAfter.statusCode, 401, 'the session ended');
    const keyAfter = await withKey(t, key.token, { method: 'GET', url: '/v1/orgs/deprov' });
    assert.equal(keyAfter.statusCode, 401, keyAfter.body);
    // A new sign-in works (the account is not suspended everywhere), but the org is closed.
    const again = await signIn(t, 'pat@deprov.example');
    const orgWhileSuspended = await asBrowser(t, again, { method: 'GET', url: '/v1/orgs/deprov' });
    assert.ok([403, 404].includes(orgWhileSuspended.statusCode), orgWhileSuspended.body);

    const suspended = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/deprov/members/${id}` });
    assert.deepEqual(
      [suspended.json().status, suspended.json().membership_status],
      ['active', 'suspended'],
      'the admin sees the suspension in this org; the account itself is not suspended',
    );

    const on = await setActive(t, scim.token, id, true);
    assert.equal(on.statusCode, 200, on.body);
    assert.equal((await asBrowser(t, again, { method: 'GET', url: '/v1/orgs/deprov' })).statusCode, 200);
    const restored = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/deprov/members/${id}` });
    assert.equal(restored.json().membership_status, 'active');
    assert.equal(
      (await withKey(t, key.token, { method: 'GET', url: '/v1/orgs/deprov' })).statusCode,
      401,
      'a revoked key stays revoked',
    );
    const keys = await asBrowser(t, admin, {
      method: 'GET',
      url: '/v1/orgs/deprov/api-keys?include_revoked=true',
    });
    const revoked = (keys.json() as { data: { id: string; status: string }[] }).data.find(
      (k) => k.id === key.id,
    );
    assert.equal(revoked?.status, 'revoked');

    const events = await auditEvents(t, admin, 'deprov');
    for (const action of [
      'scim.user_deprovisioned',
      'member.suspended',
      'api_key.revoked',
      'session.revoked',
    ]) {
      const event = events.find((e) => e.action === action);
      assert.ok(event, `${action} audited`);
      assert.deepEqual(event.actor, { kind: 'scim_token', id: scim.id }, `${action} names the SCIM token`);
    }
    assert.ok(events.some((e) => e.action === 'scim.user_reactivated' && e.actor.kind === 'scim_token'));
  });

  it('DELETE takes the person out of the org and revokes their keys there', async () => {
    const t = get();
    const { admin } = await setUpOrgWithAdmin(t, 'delorg');
    const scim = await scimTokenFor(t, admin, 'delorg');
    const member = await addMember(t, admin, 'delorg', 'user', 'sam@delorg.example');
    const key = await createKey(t, member, 'delorg');
    const id = ((await provision(t, scim.token, 'sam@delorg.example')).json() as { id: string }).id;
    const deleted = await withKey(t, scim.token, { method: 'DELETE', url: `/scim/v2/Users/${id}` });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.equal(
      (await withKey(t, scim.token, { method: 'GET', url: `/scim/v2/Users/${id}` })).statusCode,
      404,
    );
    const gone = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/delorg/members/${id}` });
    assert.equal(gone.statusCode, 404, gone.body);
    assert.equal((await withKey(t, key.token, { method: 'GET', url: '/v1/orgs/delorg' })).statusCode, 401);
    const events = await auditEvents(t, admin, 'delorg');
    assert.ok(events.some((e) => e.action === 'scim.user_deleted' && e.actor.kind === 'scim_token'));
    assert.ok(events.some((e) => e.action === 'member.removed' && e.target?.id === id));

    // A rehire: the account now belongs to no org, so the IdP may provision it again.
    const again = await provision(t, scim.token, 'sam@delorg.example');
    assert.equal(again.statusCode, 201, again.body);
    assert.equal((again.json() as { id: string }).id, id);
    assert.equal((await withKey(t, key.token, { method: 'GET', url: '/v1/orgs/delorg' })).statusCode, 401);
  });

  it('a provisioned user created inactive cannot use the org until activated', async () => {
    const t = get();
    const { admin } = await setUpOrgWithAdmin(t, 'inactive');
    const scim = await scimTokenFor(t, admin, 'inactive');
    const created = await provision(t, scim.token, 'new@inactive.example', { active: 'False' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((created.json() as { active: boolean }).active, false);
    const members = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/inactive/members' });
    assert.ok(
      (members.json() as { data: { email: string }[] }).data.some((m) => m.email === 'new@inactive.example'),
    );
  });

  it('refuses to pull in an account of another org by its email', async () => {
    const t = get();
    await setUpOrgWithAdmin(t, 'victim', 'boss@victim.example');
    const { admin } = await setUpOrgWithAdmin(t, 'claimer');
    const scim = await scimTokenFor(t, admin, 'claimer');
    const taken = await provision(t, scim.token, 'boss@victim.example');
    assert.equal(taken.statusCode, 409, taken.body);
    assert.equal((taken.json() as { scimType: string }).scimType, 'uniqueness');
    const list = await withKey(t, scim.token, {
      method: 'GET',
      url: `/scim/v2/Users?filter=${encodeURIComponent('userName eq "boss@victim.example"')}`,
    });
    assert.equal((list.json() as { totalResults: number }).totalResults, 0, 'nothing was left half made');
  });

  it('group membership re-runs the role rules, except for a role an admin pinned', async () => {
    const t = get();
    const { admin } = await setUpOrgWithAdmin(t, 'rules');
    const rule = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/rules/role-rules',
      payload: { match: 'group', value: 'Platform Admins', role: 'admin' },
    });
    assert.equal(rule.statusCode, 201, rule.body);
    const scim = await scimTokenFor(t, admin, 'rules');
    const pushed = ((await provision(t, scim.token, 'ivy@rules.example')).json() as { id: string }).id;
    const pinned = await addMember(t, admin, 'rules', 'viewer', 'max@rules.example');
    assert.equal((await provision(t, scim.token, 'max@rules.example')).statusCode, 201);
    const defaultRole = await memberRole(t, admin, 'rules', pushed);
    assert.notEqual(defaultRole, 'admin');

    const group = await withKey(t, scim.token, {
      method: 'POST',
      url: '/scim/v2/Groups',
      payload: { schemas: [GROUP], displayName: 'platform admins', members: [{ value: pushed }] },
    });
    assert.equal(group.statusCode, 201, group.body);
    const groupId = (group.json() as { id: string }).id;
    assert.equal(await memberRole(t, admin, 'rules', pushed), 'admin', 'the rule matched the group');

    const addPinned = await withKey(t, scim.token, {
      method: 'PATCH',
      url: `/scim/v2/Groups/${groupId}`,
      payload: {
        schemas: [PATCH],
        Operations: [{ op: 'add', path: 'members', value: [{ value: pinned.userId }] }],
      },
    });
    assert.equal(addPinned.statusCode, 204, addPinned.body);
    assert.equal(await memberRole(t, admin, 'rules', pinned.userId), 'viewer', 'a manual role stays pinned');

    const remove = await withKey(t, scim.token, {
      method: 'PATCH',
      url: `/scim/v2/Groups/${groupId}`,
      payload: { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${pushed}"]` }] },
    });
    assert.equal(remove.statusCode, 204, remove.body);
    assert.equal(await memberRole(t, admin, 'rules', pushed), defaultRole, 'back to the default');
    const events = await auditEvents(t, admin, 'rules');
    const changes = events.filter((e) => e.action === 'member.role_changed' && e.target?.id === pushed);
    assert.equal(changes.length, 2);
    assert.ok(changes.every((e) => e.actor.kind === 'scim_token'));
  });
});
