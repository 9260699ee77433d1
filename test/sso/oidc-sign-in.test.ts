// OIDC sign-in end to end against a real IdP (oidc-provider, in-process): home-realm
// discovery from /login, just-in-time provisioning into the org of a verified domain, the
// role decided by group rules and enforced on /v1, groups and role re-synced on the next
// sign-in, a pinned role left alone, IdP key rotation followed, and the test sign-in report.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { asBrowser, type Browser, form, hiddenField, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import type { TestOidcIdp } from '../helpers/oidc-idp.ts';
import {
  auditEvents,
  CALLBACK_URL,
  type ConnectionBody,
  discoverFromLogin,
  setUpOrgWithTestIdp,
  ssoTrip,
} from '../helpers/sso.ts';

describeEachBackend('OIDC sign-in', (get) => {
  let t: TestApp;
  let idp: TestOidcIdp;
  let orgId: string;
  let admin: Browser;
  let connection: ConnectionBody;

  before(async () => {
    t = get();
    ({ idp, orgId, admin, connection } = await setUpOrgWithTestIdp(
      t,
      'corp',
      [
        {
          sub: 'okta-alice',
          email: 'alice@corp.example',
          name: 'Alice',
          groups: ['gatehouse-admins', 'everyone'],
        },
        { sub: 'okta-carl', email: 'carl@corp.example', name: 'Carl', groups: ['contractors'] },
        { sub: 'okta-uma', email: 'uma@corp.example', name: 'Uma', groups: ['everyone'] },
      ],
      [
        { value: 'gatehouse-admins', role: 'admin' },
        { value: 'contractors', role: 'viewer' },
      ],
    ));
  });
  after(async () => {
    await idp?.close();
  });

  /** Types the email on /login (no password) and follows home-realm discovery through the IdP. */
  async function signInFromLogin(email: string) {
    const location = await discoverFromLogin(t, email);
    assert.match(location, new RegExp(`^/sso/${connection.id}/start\\?`));
    return ssoTrip(t, location, (url) => idp.authorize(url));
  }

  async function me(cookies: Record<string, string>) {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', cookies });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as {
      principal: { id: string; auth_method: string };
      orgs: { slug: string; role: string }[];
      csrf_token: string;
    };
  }

  it('never returns the client secret and names the redirect URI to register', async () => {
    const res = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/corp/sso/connections/${connection.id}`,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().has_client_secret, true);
    assert.equal(res.json().redirect_uri, CALLBACK_URL);
    assert.ok(!res.body.includes(idp.clientSecret));
  });

  it('sends a user of a mapped domain to the IdP and back as a member with the role of their group', async () => {
    const trip = await signInFromLogin('alice@corp.example');
    assert.equal(trip.callback.statusCode, 303, trip.callback.body);
    assert.equal(trip.callback.headers.location, '/admin/');
    const who = await me(trip.cookies);
    assert.equal(who.principal.auth_method, 'session:sso');
    assert.deepEqual(
      who.orgs.map((o) => [o.slug, o.role]),
      [['corp', 'admin']],
    );
    // The role is enforced on /v1: an admin lists the members.
    const members = await t.app.inject({
      method: 'GET',
      url: '/v1/orgs/corp/members',
      cookies: trip.cookies,
    });
    assert.equal(members.statusCode, 200, members.body);
    const provisioned = await auditEvents(t, orgId, 'user.created');
    assert.ok(provisioned.some((e) => e.data.source === 'sso'));
  });

  it('gives the contractors group viewer and everyone else the default role, enforced on writes', async () => {
    const carl = await signInFromLogin('carl@corp.example');
    assert.equal(carl.callback.statusCode, 303, carl.callback.body);
    const carlMe = await me(carl.cookies);
    assert.deepEqual(
      carlMe.orgs.map((o) => o.role),
      ['viewer'],
    );
    const write = await t.app.inject({
      method: 'POST',
      url: '/v1/orgs/corp/projects',
      cookies: carl.cookies,
      headers: { 'x-csrf-token': carlMe.csrf_token },
      payload: { name: 'carl-project' },
    });
    assert.equal(write.statusCode, 403, write.body);
    assert.equal(write.json().error.code, 'permission_denied');

    const uma = await signInFromLogin('uma@corp.example');
    const umaMe = await me(uma.cookies);
    assert.deepEqual(
      umaMe.orgs.map((o) => o.role),
      ['user'],
    );
    const allowed = await t.app.inject({
      method: 'POST',
      url: '/v1/orgs/corp/projects',
      cookies: uma.cookies,
      headers: { 'x-csrf-token': umaMe.csrf_token },
      payload: { name: 'uma-project' },
    });
    assert.equal(allowed.statusCode, 201, allowed.body);
  });

  it('changes the role and the synced groups at the next sign-in when the IdP changes the groups', async () => {
    idp.setUser({ sub: 'okta-carl', email: 'carl@corp.example', name: 'Carl', groups: ['gatehouse-admins'] });
    const trip = await signInFromLogin('carl@corp.example');
    const who = await me(trip.cookies);
    assert.deepEqual(
      who.orgs.map((o) => o.role),
      ['admin'],
    );
    const explanation = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/corp/members/${who.principal.id}/role-explanation`,
    });
    assert.equal(explanation.statusCode, 200, explanation.body);
    assert.equal(explanation.json().role, 'admin');
    assert.equal(explanation.json().reason.source, 'rule');
    assert.equal(explanation.json().reason.matched, 'gatehouse-admins');
    const changed = await auditEvents(t, orgId, 'member.role_changed');
    assert.ok(
      changed.some(
        (e) => e.target?.id === who.principal.id && e.data.from === 'viewer' && e.data.to === 'admin',
      ),
    );
    const synced = await auditEvents(t, orgId, 'member.groups_synced');
    assert.ok(
      synced.some(
        (e) => e.target?.id === who.principal.id && (e.data.removed as string[]).includes('contractors'),
      ),
    );

    idp.setUser({ sub: 'okta-carl', email: 'carl@corp.example', name: 'Carl', groups: [] });
    const again = await signInFromLogin('carl@corp.example');
    assert.deepEqual(
      (await me(again.cookies)).orgs.map((o) => o.role),
      ['user'],
    );
  });

  it('leaves a role an admin pinned by hand alone', async () => {
    const uma = await signInFromLogin('uma@corp.example');
    const umaId = (await me(uma.cookies)).principal.id;
    const pin = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/corp/members/${umaId}`,
      payload: { role: 'viewer' },
    });
    assert.equal(pin.statusCode, 200, pin.body);
    idp.setUser({ sub: 'okta-uma', email: 'uma@corp.example', name: 'Uma', groups: ['gatehouse-admins'] });
    const again = await signInFromLogin('uma@corp.example');
    assert.deepEqual(
      (await me(again.cookies)).orgs.map((o) => o.role),
      ['viewer'],
    );
  });

  it('follows a signing-key rotation at the IdP without admin action', async () => {
    await idp.rotateSigningKey();
    const trip = await signInFromLogin('alice@corp.example');
    assert.equal(trip.callback.statusCode, 303, trip.callback.body);
  });

  it('shows the admin a step-by-step report for a test sign-in and signs nobody in', async () => {
    const started = await asBrowser(t, admin, {
      method: 'POST',
      url: `/v1/orgs/corp/sso/connections/${connection.id}/test`,
    });
    assert.equal(started.statusCode, 200, started.body);
    const url = new URL(started.json().url);
    // Anyone else opening the URL is refused: the report is the connection's admins'.
    const anonymous = await t.app.inject({ method: 'GET', url: url.pathname + url.search });
    assert.equal(anonymous.statusCode, 401, anonymous.body);
    const trip = await ssoTrip(
      t,
      url.pathname + url.search,
      (u) => idp.authorize(u + '&login_hint=alice%40corp.example'),
      {
        cookies: admin.cookies,
      },
    );
    assert.equal(trip.callback.statusCode, 200, trip.callback.body);
    assert.match(trip.callback.body, /Test sign-in succeeded/);
    assert.match(trip.callback.body, /alice@corp\.example \(verified\)/);
    assert.match(trip.callback.body, /admin \(rule/);
    assert.equal(trip.cookies.gatehouse_session, admin.cookies.gatehouse_session, 'nobody was signed in');
  });

  it('previews who would gain or lose which role under a proposed rule set, leaving pinned roles out', async () => {
    const res = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/corp/role-rules/preview',
      payload: { rules: [{ match: 'group', value: 'everyone', role: 'viewer' }] },
    });
    assert.equal(res.statusCode, 200, res.body);
    const preview = res.json() as {
      evaluated: number;
      changes: { email: string; from: string; to: string; matched: string | null }[];
    };
    // Alice (admin through gatehouse-admins) would become a viewer through `everyone`; Carl
    // (no groups now) stays at the default; Uma's role is pinned and not evaluated.
    assert.deepEqual(
      preview.changes.map((c) => [c.email, c.from, c.to, c.matched]),
      [['alice@corp.example', 'admin', 'viewer', 'everyone']],
    );
    assert.equal(preview.evaluated, 2);
    const rules = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/corp/role-rules' });
    assert.equal(rules.json().data.length, 2, 'a preview saves nothing');
  });

  it('shows the password form for an email whose domain has no SSO', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/login' });
    const csrf = page.cookies.find((c) => c.name === 'gatehouse_csrf');
    const res = await t.app.inject({
      method: 'POST',
      url: '/login',
      cookies: { gatehouse_csrf: csrf!.value },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ email: 'someone@elsewhere.example', csrf_token: hiddenField(page.body, 'csrf_token') }),
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Enter your password/);
  });
});
