// The role matrix, enforced over HTTP (SPEC §1): every /v1 route with an org permission,
// read from the live route table, is called as an admin, a user and a viewer of one org;
// a role the matrix grants gets past the guard, any other role gets 403 permission_denied.
// Members of another org get 404 org_not_found, and anonymous callers 401, on every route.
import assert from 'node:assert/strict';
import { before, it, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { isSelfPermission, matrix, type OrgPermission, type Role, roles } from '../../src/authz/index.ts';
import { idPrefixes } from '../../src/core/ids.ts';
import type { RouteEntry } from '../../src/http/index.ts';
import {
  addMember,
  asBrowser,
  type Browser,
  setUpOrgWithAdmin,
  signIn,
  type TestApp,
} from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

const HOME_ORG = 'matrix';
const FOREIGN_ORG = 'foreign';
const emailOf = (role: Role) => `${role}@${HOME_ORG}.example`;

const PARAM = /:([A-Za-z0-9_]+)|\*/g;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const METHOD_ORDER: Record<string, number> = { GET: 0, HEAD: 0, POST: 1, PUT: 2, PATCH: 2, DELETE: 3 };

function isOrgRoute(route: RouteEntry): route is RouteEntry & { permission: OrgPermission } {
  return route.permission !== 'public' && !isSelfPermission(route.permission);
}

/** Reads before writes, deletes last and the deepest first, so no request removes what a later one needs. */
function leastDestructiveFirst(a: RouteEntry, b: RouteEntry): number {
  const byMethod = (METHOD_ORDER[a.method] ?? 2) - (METHOD_ORDER[b.method] ?? 2);
  if (byMethod !== 0) return byMethod;
  return a.method === 'DELETE' ? b.url.split('/').length - a.url.split('/').length : 0;
}

function fillPath(url: string, value: (param: string) => string): string {
  return url.replace(PARAM, (match, name: string | undefined) => (match === '*' ? 'x' : value(name!)));
}

function paramsOf(url: string): string[] {
  return [...url.matchAll(PARAM)].flatMap((m) => (m[1] ? [m[1]] : []));
}

/** A well-formed id for a parameter such as `user_id` or `service_account_id`, naming no object. */
function syntacticId(param: string): string {
  const noun = param.replace(/_id$/, '');
  const camel = noun.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const prefix = (idPrefixes as Record<string, string>)[camel] ?? noun.replace(/[^a-z]/g, '').slice(0, 3);
  return `${prefix}_${'0'.repeat(26)}`;
}

function errorCode(response: LightMyRequestResponse): string | undefined {
  try {
    return (response.json() as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

function summary(response: LightMyRequestResponse): string {
  return `${response.statusCode} ${response.body.slice(0, 300)}`;
}

let counter = 0;

/** A minimal plausible body: what a client would send to this kind of route. */
function bodyFor(method: string, url: string): Record<string, unknown> | undefined {
  if (!WRITE_METHODS.has(method)) return undefined;
  const n = ++counter;
  const targetsItem = /\/(:[A-Za-z0-9_]+|\*)$/.test(url);
  const collection = url
    .split('/')
    .filter((s) => s && !s.startsWith(':') && s !== '*')
    .at(-1);
  if (collection === 'members') {
    return targetsItem
      ? { role: 'user' }
      : { email: `member-${n}@${HOME_ORG}.example`, name: `Member ${n}`, role: 'viewer' };
  }
  if (collection === 'orgs') return { name: `Matrix Org ${n}` };
  if (collection === 'service-accounts' || collection === 'service_accounts') {
    return targetsItem ? { name: `matrix-${n}` } : { name: `matrix-${n}`, role: 'viewer' };
  }
  return { name: `matrix-${n}` };
}

interface World {
  readonly foreignOrgId: string;
  readonly members: Record<Role, Browser>;
  /** Every /v1 route with an org permission. */
  readonly orgRoutes: readonly (RouteEntry & { permission: OrgPermission })[];
  /** Every route with an org permission, on any surface. */
  readonly allOrgRoutes: readonly RouteEntry[];
}

describeEachBackend('role matrix over the live route table', (app) => {
  let world: World;

  before(async () => {
    const t = app();
    const home = await setUpOrgWithAdmin(t, HOME_ORG, emailOf('admin'));
    const members: Record<Role, Browser> = {
      admin: home.admin,
      user: await addMember(t, home.admin, HOME_ORG, 'user', emailOf('user')),
      viewer: await addMember(t, home.admin, HOME_ORG, 'viewer', emailOf('viewer')),
    };
    const foreign = await setUpOrgWithAdmin(t, FOREIGN_ORG);
    // SCIM routes take their org from the SCIM token, the only credential they accept.
    const allOrgRoutes = t.routes.filter(isOrgRoute).filter((r) => !r.url.startsWith('/scim/'));
    const orgRoutes = allOrgRoutes.filter((r) => r.url.startsWith('/v1/'));
    world = { foreignOrgId: foreign.orgId, members, orgRoutes, allOrgRoutes };
  });

  /** The route that creates the objects a parameter names: POST …/things when …/things/:param exists. */
  function creatorFor(t: TestApp, param: string): string | undefined {
    return t.routes
      .filter((r) => r.method === 'POST' && /^\/v1\/orgs\/:org\/[a-z_-]+$/.test(r.url))
      .map((r) => r.url)
      .find((collection) => t.routes.some((r) => r.url.startsWith(`${collection}/:${param}`)));
  }

  const cached = new Map<string, string>();

  /** The id of a real object for a parameter, created by the admin; a well-formed one where none can be. */
  async function realId(t: TestApp, param: string, fresh: boolean): Promise<string> {
    if (!fresh && cached.has(param)) return cached.get(param)!;
    let id = syntacticId(param);
    const collection = creatorFor(t, param);
    if (collection) {
      const response = await asBrowser(t, world.members.admin, {
        method: 'POST',
        url: fillPath(collection, () => HOME_ORG),
        payload: bodyFor('POST', collection),
      });
      const created = response.statusCode < 300 ? (response.json() as { id?: unknown }).id : undefined;
      if (typeof created === 'string') id = created;
    }
    cached.set(param, id);
    return id;
  }

  /** The path with :org set to the home org and every other parameter naming a real object if one can be made. */
  async function pathFor(t: TestApp, route: RouteEntry): Promise<string> {
    const ids = new Map<string, string>();
    for (const param of paramsOf(route.url)) {
      if (param !== 'org') ids.set(param, await realId(t, param, route.method !== 'GET'));
    }
    return fillPath(route.url, (param) => (param === 'org' ? HOME_ORG : ids.get(param)!));
  }

  /** A write may end the caller's own session (a role change does); sign them in again if so. */
  async function stillSignedIn(t: TestApp, role: Role): Promise<void> {
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: world.members[role].cookies });
    if (me.statusCode === 401) world.members[role] = await signIn(t, emailOf(role));
  }

  it('answers 401 to an anonymous caller on every route that is not public', async (tc: TestContext) => {
    const t = app();
    const guarded = t.routes.filter((r) => r.permission !== 'public');
    assert.ok(guarded.length > 0);
    for (const route of guarded) {
      await tc.test(`${route.method} ${route.url}`, async () => {
        const response = await t.app.inject({
          method: route.method as 'GET',
          url: fillPath(route.url, (param) => (param === 'org' ? HOME_ORG : syntacticId(param))),
          ...(WRITE_METHODS.has(route.method) ? { payload: bodyFor(route.method, route.url) } : {}),
        });
        assert.equal(response.statusCode, 401, summary(response));
        if (route.url.startsWith('/v1/')) assert.equal(errorCode(response), 'authentication_required');
      });
    }
  });

  it('answers 404 org_not_found to members of another org, by slug or id, as for an org that does not exist', async (tc: TestContext) => {
    const t = app();
    assert.ok(world.allOrgRoutes.length > 0, 'no org routes in the table');
    for (const route of world.allOrgRoutes) {
      await tc.test(`${route.method} ${route.url}`, async () => {
        for (const role of roles) {
          for (const orgRef of [FOREIGN_ORG, world.foreignOrgId, 'no-such-org']) {
            const response = await asBrowser(t, world.members[role], {
              method: route.method as 'GET',
              url: fillPath(route.url, (param) => (param === 'org' ? orgRef : syntacticId(param))),
              ...(WRITE_METHODS.has(route.method) ? { payload: bodyFor(route.method, route.url) } : {}),
            });
            assert.equal(response.statusCode, 404, `${role} → ${orgRef}: ${summary(response)}`);
            if (route.url.startsWith('/v1/')) {
              assert.equal(errorCode(response), 'org_not_found', `${role} → ${orgRef}`);
            }
          }
        }
      });
    }
  });

  it('lets each role through exactly the routes its permissions allow', async (tc: TestContext) => {
    const t = app();
    const ordered = [...world.orgRoutes].sort(leastDestructiveFirst);
    const seen = new Set<OrgPermission>();
    for (const route of ordered) {
      seen.add(route.permission);
      // Refused roles first, so an allowed destructive call cannot change what they see.
      const byRole = [...roles].sort(
        (a, b) => Number(matrix[a].has(route.permission)) - Number(matrix[b].has(route.permission)),
      );
      for (const role of byRole) {
        await tc.test(`${role} ${route.method} ${route.url} (${route.permission})`, async (st) => {
          const response = await asBrowser(t, world.members[role], {
            method: route.method as 'GET',
            url: await pathFor(t, route),
            ...(WRITE_METHODS.has(route.method) ? { payload: bodyFor(route.method, route.url) } : {}),
          });
          st.diagnostic(`answered ${response.statusCode} ${errorCode(response) ?? ''}`.trim());
          if (matrix[role].has(route.permission)) {
            assert.notEqual(response.statusCode, 403, `${role} was refused: ${summary(response)}`);
            assert.notEqual(response.statusCode, 401, `${role} was signed out: ${summary(response)}`);
            assert.notEqual(errorCode(response), 'org_not_found', summary(response));
            assert.ok(response.statusCode < 500, `server error: ${summary(response)}`);
            if (route.method !== 'GET') await stillSignedIn(t, role);
          } else {
            assert.equal(response.statusCode, 403, `${role} got through: ${summary(response)}`);
            assert.equal(errorCode(response), 'permission_denied', summary(response));
          }
        });
      }
    }
    // The matrix is only tested where routes exist; say which granted permissions none use yet.
    tc.diagnostic(
      `org permissions on no /v1 route yet: ${[...matrix.admin].filter((p) => !seen.has(p)).join(', ') || 'none'}`,
    );
  });
});
