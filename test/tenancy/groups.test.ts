// Manual groups over /v1 (SPEC §1): CRUD, membership (only for members of the org, added
// idempotently), pagination, unique names, the org boundary, who may read and write, and
// the audit trail.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { addMember, asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

interface GroupBody {
  id: string;
  name: string;
  source: string;
  created_at: string;
}

async function createGroup(t: TestApp, as: Browser, org: string, name: string): Promise<GroupBody> {
  const res = await asBrowser(t, as, { method: 'POST', url: `/v1/orgs/${org}/groups`, payload: { name } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

async function memberIds(t: TestApp, as: Browser, org: string, groupId: string): Promise<string[]> {
  const res = await asBrowser(t, as, { method: 'GET', url: `/v1/orgs/${org}/groups/${groupId}/members` });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json().data as { id: string }[]).map((m) => m.id);
}

describeEachBackend('tenancy groups', (app) => {
  it('creates a manual group, reads it, lists it and deletes it', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'crud');
    const group = await createGroup(t, admin, 'crud', ' Engineers ');
    assert.match(group.id, /^grp_[0-9a-z]{26}$/);
    assert.equal(group.name, 'Engineers');
    assert.equal(group.source, 'manual');
    const read = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/crud/groups/${group.id}` });
    assert.deepEqual(read.json(), group);
    const list = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/crud/groups' });
    assert.deepEqual(list.json(), { data: [group], next_cursor: null });
    const del = await asBrowser(t, admin, { method: 'DELETE', url: `/v1/orgs/crud/groups/${group.id}` });
    assert.equal(del.statusCode, 204);
    const gone = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/crud/groups/${group.id}` });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'group_not_found');
    assert.equal(gone.json().error.field, 'group_id');
  });

  it('adds an org member to a group once however often it is put, and removes them', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'members');
    const alice = await addMember(t, admin, 'members', 'user', 'alice@members.example');
    const group = await createGroup(t, admin, 'members', 'Researchers');
    const url = `/v1/orgs/members/groups/${group.id}/members/${alice.userId}`;
    for (let i = 0; i < 2; i++) {
      const put = await asBrowser(t, admin, { method: 'PUT', url });
      assert.equal(put.statusCode, 204, put.body);
    }
    const listed = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/members/groups/${group.id}/members`,
    });
    const data = listed.json().data as { id: string; email: string; status: string; added_at: string }[];
    assert.equal(data.length, 1);
    assert.equal(data[0]?.id, alice.userId);
    assert.equal(data[0]?.email, 'alice@members.example');
    assert.equal(data[0]?.status, 'active');
    assert.equal(data[0]?.added_at, new Date(t.clock.now()).toISOString());

    const del = await asBrowser(t, admin, { method: 'DELETE', url });
    assert.equal(del.statusCode, 204);
    assert.deepEqual(await memberIds(t, admin, 'members', group.id), []);
    const delAgain = await asBrowser(t, admin, { method: 'DELETE', url });
    assert.equal(delAgain.statusCode, 204, 'removing someone not in the group is not an error');
  });

  it('refuses to put someone who is not a member of the org in its group, with 404 user_not_found', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'closed');
    const other = await setUpOrgWithAdmin(t, 'closed-other');
    const group = await createGroup(t, admin, 'closed', 'Insiders');
    for (const userId of [other.admin.userId, `usr_${'0'.repeat(26)}`]) {
      const res = await asBrowser(t, admin, {
        method: 'PUT',
        url: `/v1/orgs/closed/groups/${group.id}/members/${userId}`,
      });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().error.code, 'user_not_found');
      assert.equal(res.json().error.field, 'user_id');
    }
    assert.deepEqual(await memberIds(t, admin, 'closed', group.id), []);
  });

  it('drops a member from every group of the org when they leave it', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'leaving');
    const bob = await addMember(t, admin, 'leaving', 'viewer', 'bob@leaving.example');
    const group = await createGroup(t, admin, 'leaving', 'Alumni');
    await asBrowser(t, admin, {
      method: 'PUT',
      url: `/v1/orgs/leaving/groups/${group.id}/members/${bob.userId}`,
    });
    const removed = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/leaving/members/${bob.userId}`,
    });
    assert.equal(removed.statusCode, 204);
    assert.deepEqual(await memberIds(t, admin, 'leaving', group.id), []);
  });

  it('pages through groups and through the members of a group', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'paging');
    for (let i = 0; i < 3; i++) await createGroup(t, admin, 'paging', `g${i}`);
    const first = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/paging/groups?limit=2' });
    assert.equal(first.json().data.length, 2);
    const cursor = first.json().next_cursor as string;
    assert.ok(cursor);
    const second = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/paging/groups?limit=2&cursor=${cursor}`,
    });
    // Ids made in the same millisecond sort by their random part: compare sets, not order.
    const names = [...first.json().data, ...second.json().data].map((g: GroupBody) => g.name);
    assert.deepEqual(names.sort(), ['g0', 'g1', 'g2']);
    assert.equal(second.json().next_cursor, null);

    const group = await createGroup(t, admin, 'paging', 'Big');
    const users = [admin.userId];
    for (let i = 0; i < 2; i++)
      users.push((await addMember(t, admin, 'paging', 'user', `u${i}@paging.example`)).userId);
    for (const userId of users)
      await asBrowser(t, admin, {
        method: 'PUT',
        url: `/v1/orgs/paging/groups/${group.id}/members/${userId}`,
      });
    const base = `/v1/orgs/paging/groups/${group.id}/members?limit=2`;
    const p1 = (await asBrowser(t, admin, { method: 'GET', url: base })).json();
    const p2 = (await asBrowser(t, admin, { method: 'GET', url: `${base}&cursor=${p1.next_cursor}` })).json();
    assert.equal(p2.next_cursor, null);
    assert.deepEqual(
      [...p1.data, ...p2.data].map((m: { id: string }) => m.id),
      [...users].sort(),
    );
  });

  it('refuses a second group with the same name in any case with 409 name_taken, and a blank name with 400', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'dupes');
    await createGroup(t, admin, 'dupes', 'Ops');
    const dup = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/dupes/groups',
      payload: { name: 'OPS' },
    });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.code, 'name_taken');
    assert.equal(dup.json().error.field, 'name');
    const blank = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/dupes/groups',
      payload: { name: '' },
    });
    assert.equal(blank.statusCode, 400);
    assert.equal(blank.json().error.field, 'name');
    const badId = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/dupes/groups/prj_1' });
    assert.equal(badId.statusCode, 400);
    assert.equal(badId.json().error.field, 'group_id');
  });

  it("answers 404 for another org's group through the caller's own org path", async () => {
    const t = app();
    const a = await setUpOrgWithAdmin(t, 'group-a');
    const b = await setUpOrgWithAdmin(t, 'group-b');
    const group = await createGroup(t, a.admin, 'group-a', 'Private');
    for (const [method, url] of [
      ['GET', `/v1/orgs/group-b/groups/${group.id}`],
      ['GET', `/v1/orgs/group-b/groups/${group.id}/members`],
      ['PUT', `/v1/orgs/group-b/groups/${group.id}/members/${b.admin.userId}`],
      ['DELETE', `/v1/orgs/group-b/groups/${group.id}/members/${a.admin.userId}`],
      ['DELETE', `/v1/orgs/group-b/groups/${group.id}`],
    ] as const) {
      const res = await asBrowser(t, b.admin, { method, url });
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
      assert.equal(res.json().error.code, 'group_not_found');
    }
    const still = await asBrowser(t, a.admin, { method: 'GET', url: `/v1/orgs/group-a/groups/${group.id}` });
    assert.equal(still.statusCode, 200);
  });

  it('lets a user read groups but not change them, and keeps groups from a viewer', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'perm');
    const user = await addMember(t, admin, 'perm', 'user', 'user@perm.example');
    const viewer = await addMember(t, admin, 'perm', 'viewer', 'viewer@perm.example');
    const group = await createGroup(t, admin, 'perm', 'Readers');
    assert.equal((await asBrowser(t, user, { method: 'GET', url: '/v1/orgs/perm/groups' })).statusCode, 200);
    for (const [method, url, payload] of [
      ['POST', '/v1/orgs/perm/groups', { name: 'Mine' }],
      ['PUT', `/v1/orgs/perm/groups/${group.id}/members/${user.userId}`, undefined],
      ['DELETE', `/v1/orgs/perm/groups/${group.id}`, undefined],
    ] as const) {
      const res = await asBrowser(t, user, { method, url, ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 403, `${method} ${url}`);
    }
    const res = await asBrowser(t, viewer, { method: 'GET', url: '/v1/orgs/perm/groups' });
    assert.equal(res.statusCode, 403);
  });

  it('records group.created, member_added, member_removed and deleted, once per real change', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'trail');
    const group = await createGroup(t, admin, 'trail', 'Audited');
    const url = `/v1/orgs/trail/groups/${group.id}/members/${admin.userId}`;
    await asBrowser(t, admin, { method: 'PUT', url });
    await asBrowser(t, admin, { method: 'PUT', url });
    await asBrowser(t, admin, { method: 'DELETE', url });
    await asBrowser(t, admin, { method: 'DELETE', url });
    await asBrowser(t, admin, { method: 'DELETE', url: `/v1/orgs/trail/groups/${group.id}` });
    const res = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/trail/audit?action=group.*' });
    const events = (
      res.json().data as { action: string; target: { id: string }; data: Record<string, unknown> }[]
    ).reverse();
    assert.deepEqual(
      events.map((e) => e.action),
      ['group.created', 'group.member_added', 'group.member_removed', 'group.deleted'],
    );
    assert.ok(events.every((e) => e.target.id === group.id));
    assert.equal(events[1]?.data.user_id, admin.userId);
  });
});
