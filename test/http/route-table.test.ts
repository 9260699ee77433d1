// The route table (SPEC §1): every route declares the permission it needs, `public` only
// where anyone may call, and org permissions only where the path names the org.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { isPermission, isSelfPermission, type Permission } from '../../src/authz/index.ts';
import { collectRoutes, type RouteEntry } from '../../src/http/index.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

/** Paths anyone may call: ops probes, the sign-in pages, static assets and the console shell. */
const PUBLIC_PATHS: readonly (string | RegExp)[] = [
  '/healthz',
  '/readyz',
  '/metrics',
  '/login',
  '/logout',
  '/setup',
  // SSO sign-in: the start of a flow and the IdP's redirect back.
  '/sso/:connection_id/start',
  '/sso/oidc/callback',
  '/sso/saml/:connection_id/metadata',
  '/sso/saml/:connection_id/acs',
  // The authorization server: oidc-provider authenticates clients and users itself, and its
  // metadata is where clients look for it (RFC 8414, OpenID Connect Discovery).
  '/oauth',
  '/oauth/*',
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-authorization-server/oauth',
  '/.well-known/openid-configuration',
  '/.well-known/openid-configuration/oauth',
  // Sign-in and consent for it: the interaction cookie names the request, the browser
  // session the user (a signed-out browser is sent to /login).
  '/oauth/interaction/:uid',
  // RFC 9728: which authorization server protects Gatehouse's resources.
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-protected-resource/v1',
  // The MCP server authenticates every request itself and checks each tool's own permission.
  '/mcp',
  '/',
  /^\/assets\/[^:*]+$/,
  '/admin',
  '/admin/*',
];

const ORG_PATH = /\/orgs\/:org(\/|$)/;
/** The SCIM surface: the org comes from the SCIM token, not the path. */
const SCIM_PREFIX = '/scim/v2/';

function isPublicPath(url: string): boolean {
  return PUBLIC_PATHS.some((allowed) => (typeof allowed === 'string' ? allowed === url : allowed.test(url)));
}

function describeRoute(r: RouteEntry): string {
  return `${r.method} ${r.url} (${r.permission})`;
}

describe('route table', () => {
  let t: TestApp;
  let routes: readonly RouteEntry[];
  before(async () => {
    t = await createTestApp('sqlite');
    routes = t.routes;
  });
  after(async () => {
    await t?.close();
  });

  it('holds the routes the app serves', () => {
    // Guards against a table that is silently empty, which would make every check below pass.
    const keys = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const expected of ['GET /healthz', 'GET /login', 'GET /v1/me', 'GET /v1/orgs/:org/members']) {
      assert.ok(keys.has(expected), `${expected} missing from the route table`);
    }
    assert.equal(keys.size, routes.length, 'a route appears twice in the table');
  });

  it('gives every route a declared permission that names a known permission or public', () => {
    const unknown = routes.filter((r) => r.permission !== 'public' && !isPermission(r.permission));
    assert.deepEqual(unknown.map(describeRoute), []);
  });

  it('declares public only on the allowlisted paths', () => {
    const stray = routes.filter((r) => r.permission === 'public' && !isPublicPath(r.url));
    assert.deepEqual(stray.map(describeRoute), [], 'public routes outside the allowlist');
  });

  it('puts every org permission on a path that names the org, but SCIM’s, whose token names it', () => {
    const orgless = routes.filter(
      (r) =>
        r.permission !== 'public' &&
        !isSelfPermission(r.permission) &&
        !ORG_PATH.test(r.url) &&
        !r.url.startsWith(SCIM_PREFIX),
    );
    assert.deepEqual(orgless.map(describeRoute), [], 'org permissions on routes without /orgs/:org');
  });

  it('guards every /scim/v2 route with scim:write', () => {
    const scim = routes.filter((r) => r.url.startsWith(SCIM_PREFIX));
    assert.ok(scim.length > 0, 'no /scim/v2 routes found');
    assert.deepEqual(scim.filter((r) => r.permission !== 'scim:write').map(describeRoute), []);
  });

  it('guards every /v1/orgs/:org route with an org permission, not a self one or public', () => {
    const orgRoutes = routes.filter((r) => /^\/v1\/orgs\/:org(\/|$)/.test(r.url));
    assert.ok(orgRoutes.length > 0, 'no /v1/orgs/:org routes found');
    const wrong = orgRoutes.filter(
      (r) => r.permission === 'public' || isSelfPermission(r.permission as Permission),
    );
    assert.deepEqual(wrong.map(describeRoute), []);
  });

  it('names the org parameter :org wherever a path has an orgs segment with a parameter', () => {
    const misnamed = routes.filter((r) => /\/orgs\/:/.test(r.url) && !ORG_PATH.test(r.url));
    assert.deepEqual(misnamed.map(describeRoute), [], 'the guard reads params.org');
  });
});

describe('route collector', () => {
  it('refuses to register a route that declares no permission', async () => {
    const app = Fastify();
    const table: RouteEntry[] = [];
    collectRoutes(app, table);
    try {
      app.get('/declared', { config: { permission: 'public' } }, async () => 'ok');
      await assert.rejects(async () => {
        app.get('/undeclared', async () => 'oops');
        await app.ready();
      }, /declares no permission/);
      assert.deepEqual(
        table.map((r) => r.url),
        ['/declared'],
        'the undeclared route never reaches the table',
      );
    } finally {
      await app.close().catch(() => {});
    }
  });

  it('refuses a route whose config lacks the permission key', async () => {
    const app = Fastify();
    collectRoutes(app, []);
    try {
      await assert.rejects(async () => {
        app.post('/other-config', { config: { rateLimit: 1 } as never }, async () => 'oops');
        await app.ready();
      }, /declares no permission/);
    } finally {
      await app.close().catch(() => {});
    }
  });
});
