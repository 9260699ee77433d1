import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import { addMember, asBrowser, setUpOrgWithAdmin } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

describeEachBackend('audit log', (app) => {
  it('records each step of a member’s life in order, with actor, target, address and request id', async () => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'trail');
    const viewer = await addMember(t, admin, 'trail', 'viewer', 'v@trail.example');
    await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/trail/members/${viewer.userId}`,
      payload: { status: 'suspended' },
    });
    const res = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/trail/audit?limit=200' });
    assert.equal(res.statusCode, 200);
    const events = (
      res.json().data as {
        action: string;
        actor: { id: string };
        target: { id: string } | null;
        request_id: string;
        ip: string;
      }[]
    ).reverse();
    const actions = events.map((e) => e.action);
    assert.deepEqual(actions, [
      'org.created',
      'member.added',
      'user.created',
      'admin.created_by_cli',
      'user.signed_in',
      'user.created',
      'member.added',
      'user.signed_in',
      'user.suspended',
      'session.revoked',
    ]);
    const suspended = events.find((e) => e.action === 'user.suspended')!;
    assert.equal(suspended.actor.id, admin.userId);
    assert.equal(suspended.target?.id, viewer.userId);
    assert.match(suspended.request_id, /^req_/);
    assert.equal(suspended.ip, '127.0.0.1');
    const verify = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/trail/audit/verify' });
    assert.deepEqual(verify.json(), { valid: true, events_checked: events.length, first_broken: null });
    assert.ok(orgId);
  });

  it('filters by action family and pages with a cursor', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'pages');
    for (let i = 0; i < 3; i++) await addMember(t, admin, 'pages', 'user', `u${i}@pages.example`);
    const first = await asBrowser(t, admin, {
      method: 'GET',
      url: '/v1/orgs/pages/audit?action=member.*&limit=2',
    });
    const body = first.json();
    assert.equal(body.data.length, 2);
    assert.ok(body.next_cursor);
    const second = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/pages/audit?action=member.*&limit=2&cursor=${body.next_cursor}`,
    });
    const rest = second.json();
    assert.equal(rest.data.length, 2, 'four member.added events: the admin and three users');
    assert.equal(rest.next_cursor, null);
    assert.ok(rest.data.every((e: { action: string }) => e.action === 'member.added'));
    const bad = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/pages/audit?cursor=garbage' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, 'cursor');
  });

  it('names the first edited event when a row is changed directly in SQL', async () => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'tamper');
    await addMember(t, admin, 'tamper', 'viewer', 'v@tamper.example');
    const victim = await t.database.db
      .selectFrom('audit_events')
      .select(['id', 'seq'])
      .where('chain_id', '=', orgId)
      .where('action', '=', 'member.added')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    await sql`update audit_events set data_json = ${'{"role":"admin","role_source":"manual"}'} where id = ${victim.id}`.execute(
      t.database.db,
    );
    const verify = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/tamper/audit/verify' });
    const body = verify.json();
    assert.equal(body.valid, false);
    assert.equal(body.first_broken.event_id, victim.id);
    assert.equal(body.first_broken.seq, Number(victim.seq));
    assert.equal(body.first_broken.reason, 'hash_mismatch');
  });

  it('detects a deleted event in the middle and at the end of the chain', async () => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'deletion');
    await addMember(t, admin, 'deletion', 'user', 'u@deletion.example');
    await sql`delete from audit_events where chain_id = ${orgId} and seq = 3`.execute(t.database.db);
    const middle = (
      await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/deletion/audit/verify' })
    ).json();
    assert.equal(middle.valid, false);
    assert.equal(middle.first_broken.seq, 3);
    assert.equal(middle.first_broken.reason, 'missing_events');

    const t2 = app();
    const other = await setUpOrgWithAdmin(t2, 'deletion-tail');
    const last = await t2.database.db
      .selectFrom('audit_events')
      .select(['seq'])
      .where('chain_id', '=', other.orgId)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    await sql`delete from audit_events where chain_id = ${other.orgId} and seq = ${last.seq}`.execute(
      t2.database.db,
    );
    const tail = (
      await asBrowser(t2, other.admin, { method: 'GET', url: '/v1/orgs/deletion-tail/audit/verify' })
    ).json();
    assert.equal(tail.valid, false);
    assert.equal(tail.first_broken.seq, Number(last.seq));
  });

  it('keeps the audit log from users and viewers', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'private');
    for (const role of ['user', 'viewer'] as const) {
      const member = await addMember(t, admin, 'private', role, `${role}@private.example`);
      const res = await asBrowser(t, member, { method: 'GET', url: '/v1/orgs/private/audit' });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.code, 'permission_denied');
    }
  });
});
