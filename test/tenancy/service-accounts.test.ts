// Service accounts over /v1 (SPEC §1): CRUD, role and name changes, disabling and enabling
// (which the live org-access lookup honours at once), the org boundary, admin-only access,
// pagination and the audit trail.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Principal } from '../../src/core/context.ts';
import { addMember, asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

interface ServiceAccountBody {
  id: string;
  name: string;
  role: string;
  disabled: boolean;
  disabled_at: string | null;
  created_at: string;
}

async function createAccount(
  t: TestApp,
  as: Browser,
  org: string,
  name: string,
  role = 'viewer',
): Promise<ServiceAccountBody> {
  const res = await asBrowser(t, as, {
    method: 'POST',
    url: `/v1/orgs/${org}/service-accounts`,
    payload: { name, role },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

function patchAccount(t: TestApp, as: Browser, org: string, id: string, payload: Record<string, unknown>) {
  return asBrowser(t, as, { method: 'PATCH', url: `/v1/orgs/${org}/service-accounts/${id}`, payload });
}

const asAccount = (id: string): Principal => ({ kind: 'service_account', id, authMethod: 'test' });

describeEachBackend('tenancy service accounts', (app) => {
  it('creates a service account with a role, renames it, changes its role and deletes it', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'crud');
    const account = await createAccount(t, admin, 'crud', 'ci-runner', 'user');
    assert.match(account.id, /^sva_[0-9a-z]{26}$/);
    assert.deepEqual(
      { ...account, id: undefined },
      {
        id: undefined,
        name: 'ci-runner',
        role: 'user',
        disabled: false,
        disabled_at: null,
        created_at: new Date(t.clock.now()).toISOString(),
      },
    );
    const read = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/crud/service-accounts/${account.id}`,
    });
    assert.deepEqual(read.json(), account);

    const patched = await patchAccount(t, admin, 'crud', account.id, { name: 'deployer', role: 'admin' });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().name, 'deployer');
    assert.equal(patched.json().role, 'admin');

    const del = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/crud/service-accounts/${account.id}`,
    });
    assert.equal(del.statusCode, 204);
    const gone = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/crud/service-accounts/${account.id}`,
    });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'service_account_not_found');
    assert.equal(gone.json().error.field, 'service_account_id');
  });

  it('stops resolving org access for a disabled service account and restores its live role when enabled', async () => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'toggle');
    const account = await createAccount(t, admin, 'toggle', 'gateway', 'user');
    const ctx = t.services.systemContext('test');
    const access = () => t.services.tenancy.resolveOrgAccess(ctx, asAccount(account.id), orgId);
    assert.equal((await access())?.role, 'user');

    t.clock.advance(1000);
    const off = await patchAccount(t, admin, 'toggle', account.id, { disabled: true });
    assert.equal(off.statusCode, 200);
    assert.equal(off.json().disabled, true);
    assert.equal(off.json().disabled_at, new Date(t.clock.now()).toISOString());
    assert.equal(await access(), undefined);

    const on = await patchAccount(t, admin, 'toggle', account.id, { disabled: false, role: 'viewer' });
    assert.equal(on.statusCode, 200);
    assert.equal(on.json().disabled, false);
    assert.equal(on.json().disabled_at, null);
    assert.equal((await access())?.role, 'viewer', 'enabled, with the role changed in the same request');

    await asBrowser(t, admin, { method: 'DELETE', url: `/v1/orgs/toggle/service-accounts/${account.id}` });
    assert.equal(await access(), undefined, 'a deleted account resolves to nothing');
  });

  it('refuses a duplicate name in any case with 409 name_taken and a bad role with 400 naming role', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'dupes');
    const first = await createAccount(t, admin, 'dupes', 'Bot');
    const dup = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/dupes/service-accounts',
      payload: { name: 'bot', role: 'viewer' },
    });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.code, 'name_taken');
    assert.equal(dup.json().error.field, 'name');
    const second = await createAccount(t, admin, 'dupes', 'Other');
    const rename = await patchAccount(t, admin, 'dupes', second.id, { name: 'BOT' });
    assert.equal(rename.statusCode, 409);
    assert.equal(rename.json().error.code, 'name_taken');

    const owner = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/dupes/service-accounts',
      payload: { name: 'root', role: 'owner' },
    });
    assert.equal(owner.statusCode, 400);
    assert.equal(owner.json().error.field, 'role');
    const noRole = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/dupes/service-accounts',
      payload: { name: 'root' },
    });
    assert.equal(noRole.statusCode, 400);
    assert.equal(noRole.json().error.field, 'role');
    const badPatch = await patchAccount(t, admin, 'dupes', first.id, { role: 'superuser' });
    assert.equal(badPatch.statusCode, 400);
    assert.equal(badPatch.json().error.field, 'role');
  });

  it("answers 404 for another org's service account through the caller's own org path, and leaves it working", async () => {
    const t = app();
    const a = await setUpOrgWithAdmin(t, 'sva-a');
    const b = await setUpOrgWithAdmin(t, 'sva-b');
    const account = await createAccount(t, a.admin, 'sva-a', 'robot', 'admin');
    const url = `/v1/orgs/sva-b/service-accounts/${account.id}`;
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { disabled: true }],
      ['DELETE', undefined],
    ] as const) {
      const res = await asBrowser(t, b.admin, { method, url, ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 404, `${method}: ${res.body}`);
      assert.equal(res.json().error.code, 'service_account_not_found');
    }
    const ctx = t.services.systemContext('test');
    assert.equal(
      (await t.services.tenancy.resolveOrgAccess(ctx, asAccount(account.id), a.orgId))?.role,
      'admin',
    );
    assert.equal(await t.services.tenancy.resolveOrgAccess(ctx, asAccount(account.id), b.orgId), undefined);
  });

  it('keeps service accounts from users and viewers, who may still write or read projects', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'perm');
    const account = await createAccount(t, admin, 'perm', 'robot');
    const user = await addMember(t, admin, 'perm', 'user', 'user@perm.example');
    const viewer = await addMember(t, admin, 'perm', 'viewer', 'viewer@perm.example');
    const project = await asBrowser(t, user, {
      method: 'POST',
      url: '/v1/orgs/perm/projects',
      payload: { name: 'p' },
    });
    assert.equal(project.statusCode, 201);
    for (const who of [user, viewer]) {
      for (const [method, url, payload] of [
        ['GET', '/v1/orgs/perm/service-accounts', undefined],
        ['POST', '/v1/orgs/perm/service-accounts', { name: 'mine', role: 'admin' }],
        ['PATCH', `/v1/orgs/perm/service-accounts/${account.id}`, { role: 'admin' }],
        ['DELETE', `/v1/orgs/perm/service-accounts/${account.id}`, undefined],
      ] as const) {
        const res = await asBrowser(t, who, { method, url, ...(payload ? { payload } : {}) });
        assert.equal(res.statusCode, 403, `${method} ${url}`);
        assert.equal(res.json().error.code, 'permission_denied');
      }
    }
  });

  it('pages through service accounts', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'paging');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await createAccount(t, admin, 'paging', `bot-${i}`)).id);
      t.clock.advance(1);
    }
    const first = (
      await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/paging/service-accounts?limit=2' })
    ).json();
    assert.equal(first.data.length, 2);
    const second = (
      await asBrowser(t, admin, {
        method: 'GET',
        url: `/v1/orgs/paging/service-accounts?limit=2&cursor=${first.next_cursor}`,
      })
    ).json();
    assert.equal(second.next_cursor, null);
    assert.deepEqual(
      [...first.data, ...second.data].map((a: ServiceAccountBody) => a.id),
      ids,
    );
  });

  it('records created, updated, disabled, enabled and deleted, and nothing for a no-op change', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'trail');
    const account = await createAccount(t, admin, 'trail', 'audited', 'viewer');
    await patchAccount(t, admin, 'trail', account.id, { role: 'user' });
    await patchAccount(t, admin, 'trail', account.id, { role: 'user' });
    await patchAccount(t, admin, 'trail', account.id, { disabled: true });
    await patchAccount(t, admin, 'trail', account.id, { disabled: true });
    await patchAccount(t, admin, 'trail', account.id, { disabled: false });
    await asBrowser(t, admin, { method: 'DELETE', url: `/v1/orgs/trail/service-accounts/${account.id}` });
    const res = await asBrowser(t, admin, {
      method: 'GET',
      url: '/v1/orgs/trail/audit?action=service_account.*',
    });
    const events = (
      res.json().data as {
        action: string;
        target: { kind: string; id: string };
        data: Record<string, unknown>;
      }[]
    ).reverse();
    assert.deepEqual(
      events.map((e) => e.action),
      [
        'service_account.created',
        'service_account.updated',
        'service_account.disabled',
        'service_account.enabled',
        'service_account.deleted',
      ],
    );
    assert.ok(events.every((e) => e.target.kind === 'service_account' && e.target.id === account.id));
    assert.deepEqual(events[1]?.data, { role: { from: 'viewer', to: 'user' } });
  });
});
