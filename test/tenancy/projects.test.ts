// Projects over /v1 (SPEC §1): CRUD, pagination, unique names per org, validation, the org
// boundary, the role matrix for projects, and the audit trail of every change.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { addMember, asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

interface ProjectBody {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}

async function createProject(
  t: TestApp,
  as: Browser,
  org: string,
  payload: Record<string, unknown>,
): Promise<ProjectBody> {
  const res = await asBrowser(t, as, { method: 'POST', url: `/v1/orgs/${org}/projects`, payload });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

describeEachBackend('tenancy projects', (app) => {
  it('creates, reads, renames, describes and deletes a project', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'crud');
    const created = await createProject(t, admin, 'crud', { name: '  Eval Suite ' });
    assert.match(created.id, /^prj_[0-9a-z]{26}$/);
    assert.equal(created.name, 'Eval Suite', 'the name is trimmed');
    assert.equal(created.description, '', 'the description defaults to empty');
    assert.equal(created.created_at, new Date(t.clock.now()).toISOString());
    assert.equal(created.updated_at, created.created_at);

    const read = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/crud/projects/${created.id}` });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), created);

    t.clock.advance(60_000);
    const patched = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/crud/projects/${created.id}`,
      payload: { name: 'Evals', description: 'Nightly regression runs' },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    const body = patched.json() as ProjectBody;
    assert.equal(body.name, 'Evals');
    assert.equal(body.description, 'Nightly regression runs');
    assert.equal(body.created_at, created.created_at);
    assert.notEqual(body.updated_at, created.updated_at);

    const del = await asBrowser(t, admin, { method: 'DELETE', url: `/v1/orgs/crud/projects/${created.id}` });
    assert.equal(del.statusCode, 204);
    const gone = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/crud/projects/${created.id}` });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'project_not_found');
    assert.equal(gone.json().error.field, 'project_id');
    const again = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/crud/projects/${created.id}`,
    });
    assert.equal(again.statusCode, 404);
  });

  it('pages through projects in creation order with an opaque cursor', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'paging');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await createProject(t, admin, 'paging', { name: `p${i}` })).id);
      t.clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `limit=2&cursor=${cursor}` : 'limit=2';
      const res = await asBrowser(t, admin, { method: 'GET', url: `/v1/orgs/paging/projects?${query}` });
      assert.equal(res.statusCode, 200);
      const page = res.json() as { data: ProjectBody[]; next_cursor: string | null };
      assert.ok(page.data.length <= 2);
      seen.push(...page.data.map((p) => p.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ids);
    const bad = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/paging/projects?cursor=garbage' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, 'cursor');
  });

  it('refuses a second project with the same name in any case, on create and on rename, with 409 name_taken', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'dupes');
    await createProject(t, admin, 'dupes', { name: 'Inference' });
    const dup = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/dupes/projects',
      payload: { name: 'INFERENCE ' },
    });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.code, 'name_taken');
    assert.equal(dup.json().error.field, 'name');

    const other = await createProject(t, admin, 'dupes', { name: 'Training' });
    const rename = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/dupes/projects/${other.id}`,
      payload: { name: 'inference' },
    });
    assert.equal(rename.statusCode, 409);
    assert.equal(rename.json().error.code, 'name_taken');
    const recase = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/dupes/projects/${other.id}`,
      payload: { name: 'TRAINING' },
    });
    assert.equal(recase.statusCode, 200, 'a project may change the case of its own name');

    const { admin: otherAdmin } = await setUpOrgWithAdmin(t, 'dupes-elsewhere');
    await createProject(t, otherAdmin, 'dupes-elsewhere', { name: 'Inference' });
  });

  it('answers 400 naming the field for a bad name, a long description, an empty patch or a malformed id', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'invalid');
    const cases: [string, string, Record<string, unknown> | undefined, string][] = [
      ['POST', '/v1/orgs/invalid/projects', { name: '' }, 'name'],
      ['POST', '/v1/orgs/invalid/projects', { name: '   ' }, 'name'],
      ['POST', '/v1/orgs/invalid/projects', { name: 'x'.repeat(201) }, 'name'],
      ['POST', '/v1/orgs/invalid/projects', {}, 'name'],
      ['POST', '/v1/orgs/invalid/projects', { name: 'ok', description: 'x'.repeat(2001) }, 'description'],
      ['GET', '/v1/orgs/invalid/projects/prj_NOT-AN-ID', undefined, 'project_id'],
      ['GET', '/v1/orgs/invalid/projects?limit=0', undefined, 'limit'],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await asBrowser(t, admin, {
        method: method as 'POST',
        url,
        ...(payload ? { payload } : {}),
      });
      assert.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(payload)}: ${res.body}`);
      assert.equal(res.json().error.code, 'invalid_request');
      assert.equal(res.json().error.field, field, `${method} ${url} ${JSON.stringify(payload)}`);
    }
    const project = await createProject(t, admin, 'invalid', { name: 'ok' });
    const empty = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/invalid/projects/${project.id}`,
      payload: {},
    });
    assert.equal(empty.statusCode, 400);
  });

  it("hides one org's projects from an admin of another, even through the admin's own org path", async () => {
    const t = app();
    const a = await setUpOrgWithAdmin(t, 'tenant-a');
    const b = await setUpOrgWithAdmin(t, 'tenant-b');
    const secret = await createProject(t, a.admin, 'tenant-a', { name: 'Secret' });
    const url = `/v1/orgs/tenant-b/projects/${secret.id}`;
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { name: 'Stolen' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await asBrowser(t, b.admin, { method, url, ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 404, `${method}: ${res.body}`);
      assert.equal(res.json().error.code, 'project_not_found');
    }
    const direct = await asBrowser(t, b.admin, {
      method: 'GET',
      url: `/v1/orgs/tenant-a/projects/${secret.id}`,
    });
    assert.equal(direct.statusCode, 404);
    assert.equal(direct.json().error.code, 'org_not_found');
    const list = await asBrowser(t, b.admin, { method: 'GET', url: '/v1/orgs/tenant-b/projects' });
    assert.deepEqual(list.json().data, []);
    const still = await asBrowser(t, a.admin, {
      method: 'GET',
      url: `/v1/orgs/tenant-a/projects/${secret.id}`,
    });
    assert.equal(still.json().name, 'Secret', 'the other admin changed nothing');
  });

  it('lets a viewer read projects but refuses its writes with 403, and lets a user write them', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'roles');
    const viewer = await addMember(t, admin, 'roles', 'viewer', 'viewer@roles.example');
    const user = await addMember(t, admin, 'roles', 'user', 'user@roles.example');
    const project = await createProject(t, admin, 'roles', { name: 'Shared' });

    const list = await asBrowser(t, viewer, { method: 'GET', url: '/v1/orgs/roles/projects' });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().data.length, 1);
    const read = await asBrowser(t, viewer, { method: 'GET', url: `/v1/orgs/roles/projects/${project.id}` });
    assert.equal(read.statusCode, 200);
    for (const [method, url, payload] of [
      ['POST', '/v1/orgs/roles/projects', { name: 'Mine' }],
      ['PATCH', `/v1/orgs/roles/projects/${project.id}`, { name: 'Renamed' }],
      ['DELETE', `/v1/orgs/roles/projects/${project.id}`, undefined],
    ] as const) {
      const res = await asBrowser(t, viewer, { method, url, ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 403, `${method} ${url}`);
      assert.equal(res.json().error.code, 'permission_denied');
    }

    const mine = await createProject(t, user, 'roles', { name: 'Mine', description: 'made by a user' });
    const renamed = await asBrowser(t, user, {
      method: 'PATCH',
      url: `/v1/orgs/roles/projects/${mine.id}`,
      payload: { name: 'Ours' },
    });
    assert.equal(renamed.statusCode, 200);
    const removed = await asBrowser(t, user, { method: 'DELETE', url: `/v1/orgs/roles/projects/${mine.id}` });
    assert.equal(removed.statusCode, 204);
  });

  it('records project.created, project.updated and project.deleted with the actor and target', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'trail');
    const project = await createProject(t, admin, 'trail', { name: 'Audited' });
    await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/trail/projects/${project.id}`,
      payload: { name: 'Audited 2', description: 'new' },
    });
    await asBrowser(t, admin, { method: 'DELETE', url: `/v1/orgs/trail/projects/${project.id}` });
    const res = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/trail/audit?action=project.*' });
    const events = (
      res.json().data as {
        action: string;
        actor: { id: string };
        target: { kind: string; id: string };
        data: Record<string, unknown>;
      }[]
    ).reverse();
    assert.deepEqual(
      events.map((e) => e.action),
      ['project.created', 'project.updated', 'project.deleted'],
    );
    for (const e of events) {
      assert.equal(e.actor.id, admin.userId);
      assert.deepEqual(e.target, { kind: 'project', id: project.id });
    }
    assert.deepEqual(events[1]?.data, {
      fields: ['name', 'description'],
      name: { from: 'Audited', to: 'Audited 2' },
    });
    assert.deepEqual(events[2]?.data, { name: 'Audited 2' });
  });
});
