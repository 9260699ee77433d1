// OIDC sign-in from the attacker's side, against a hostile IdP that sends exactly the ID
// token each test forges: every refusal is asserted with its status, no session is set, and
// the audit log names the reason.
import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import { addMember, asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { type HostileOidcIdp, startHostileOidcIdp } from '../helpers/hostile-oidc-idp.ts';
import { auditEvents, type ConnectionBody, setUpOidcConnection, ssoTrip } from '../helpers/sso.ts';

const HONEST_USER = {
  sub: 'h-eve',
  email: 'eve@hostile.example',
  email_verified: true,
  name: 'Eve',
  groups: [],
};

describeEachBackend('OIDC sign-in refusals', (get) => {
  let t: TestApp;
  let idp: HostileOidcIdp;
  let orgId: string;
  let admin: Browser;
  let connection: ConnectionBody;

  before(async () => {
    t = get();
    t.clock.set(Date.now());
    idp = await startHostileOidcIdp({ user: HONEST_USER });
    ({ orgId, admin } = await setUpOrgWithAdmin(t, 'victim', 'root@victim.example'));
    connection = await setUpOidcConnection(t, admin, 'victim', {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      domain: 'hostile.example',
      preset: 'generic_oidc',
    });
  });
  beforeEach(() => {
    idp.forge = (honest) => honest;
    idp.user = { ...HONEST_USER };
    idp.hideSigningKeyFromJwks = false;
    t.clock.set(Date.now());
  });
  after(async () => {
    await idp?.close();
  });

  const start = () => `/sso/${connection.id}/start`;

  async function refusedWith(status: number, reason: string, detail?: RegExp) {
    const before = (await auditEvents(t, orgId, 'user.sign_in_failed')).length;
    const trip = await ssoTrip(t, start(), (url) => idp.authorize(url));
    assert.equal(trip.callback.statusCode, status, trip.callback.body);
    assert.equal(trip.cookies.gatehouse_session, undefined, 'no session after a refusal');
    const failures = await auditEvents(t, orgId, 'user.sign_in_failed');
    assert.equal(failures.length, before + 1, 'one audited failure');
    const event = failures[0]!;
    assert.equal(event.data.reason, reason);
    if (detail) assert.match(String(event.data.detail), detail);
    return trip;
  }

  it('signs in the honest user (the baseline the refusals below differ from)', async () => {
    const trip = await ssoTrip(t, start(), (url) => idp.authorize(url));
    assert.equal(trip.callback.statusCode, 303, trip.callback.body);
    assert.ok(trip.cookies.gatehouse_session);
  });

  it('refuses an ID token signed with a key the IdP does not publish', async () => {
    idp.forge = (h) => ({ ...h, signWith: 'attacker' });
    await refusedWith(401, 'response_rejected', /signature/);
  });

  it('refuses an unsigned ID token (alg none)', async () => {
    idp.forge = (h) => ({ ...h, header: { alg: 'none' } });
    await refusedWith(401, 'response_rejected', /alg/);
  });

  it('refuses an HS256 token keyed with the IdP’s public key (algorithm confusion)', async () => {
    idp.forge = (h) => ({ ...h, header: { ...h.header, alg: 'HS256' }, signWith: 'attacker' });
    await refusedWith(401, 'response_rejected', /alg/);
  });

  it('refuses a wrong issuer', async () => {
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, iss: 'https://evil.example' } });
    await refusedWith(401, 'response_rejected', /iss/);
  });

  it('refuses a wrong audience', async () => {
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, aud: 'another-client' } });
    await refusedWith(401, 'response_rejected', /aud/);
  });

  it('refuses an authorized party that is another client', async () => {
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, azp: 'another-client' } });
    await refusedWith(401, 'response_rejected', /azp/);
  });

  it('refuses an expired ID token, beyond the allowed clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, iat: now - 600, exp: now - 120 } });
    await refusedWith(401, 'response_rejected', /exp/);
  });

  it('refuses an ID token issued in the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, iat: now + 3600, exp: now + 7200 } });
    await refusedWith(401, 'response_rejected', /iat/);
  });

  it('refuses a nonce that does not match, and a missing one', async () => {
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, nonce: 'attacker-nonce' } });
    await refusedWith(401, 'response_rejected', /nonce/);
    idp.forge = (h) => {
      const { nonce: _dropped, ...claims } = h.claims;
      return { ...h, claims };
    };
    await refusedWith(401, 'response_rejected', /nonce/);
  });

  it('fails closed on a key id the IdP’s JWKS does not have, after fetching the JWKS again', async () => {
    // Signed with a key id never published: the cached JWKS lacks it, and so does a fresh one.
    idp.forge = (h) => ({ ...h, header: { ...h.header, kid: 'rotated-but-never-published' } });
    const fetchesBefore = idp.jwksFetches;
    await refusedWith(401, 'response_rejected', /key/);
    assert.ok(idp.jwksFetches > fetchesBefore, 'the JWKS was fetched again for the unknown kid');
  });

  it('refuses an email the IdP has not verified, although its domain is mapped', async () => {
    idp.user = {
      ...HONEST_USER,
      sub: 'h-unverified',
      email: 'mallory@hostile.example',
      email_verified: false,
    };
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, email_verified: false } });
    await refusedWith(403, 'sso_email_unverified');
    const user = await t.services.tenancy.findUserForSignIn(
      t.services.systemContext('test'),
      'mallory@hostile.example',
    );
    assert.equal(user, undefined, 'no account was created');
  });

  it('never links an existing account of a domain this org has not verified', async () => {
    // root@victim.example is a local account; the IdP vouches for it, but victim.example is
    // not a domain of the connection's org.
    idp.user = { ...HONEST_USER, sub: 'h-takeover', email: 'root@victim.example' };
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, email: 'root@victim.example' } });
    await refusedWith(403, 'sso_domain_not_mapped');
  });

  it('refuses a callback whose state was changed', async () => {
    const trip = await ssoTrip(t, start(), (url) => idp.authorize(url), {
      tamper: (url) => {
        url.searchParams.set('state', 'forged-state-value');
        return url;
      },
    });
    assert.equal(trip.callback.statusCode, 400, trip.callback.body);
    assert.equal(trip.cookies.gatehouse_session, undefined);
    // Gatehouse never issued that state: recorded in the instance's log, not an org's.
    const instance = await t.database.db
      .selectFrom('audit_events')
      .select('data_json')
      .where('action', '=', 'user.sign_in_failed')
      .where('org_id', 'is', null)
      .execute();
    assert.ok(instance.some((e) => JSON.parse(e.data_json).reason === 'flow_invalid'));
  });

  it('reports, for an admin’s test sign-in, which check the IdP’s answer failed', async () => {
    idp.forge = (h) => ({ ...h, claims: { ...h.claims, aud: 'another-client' } });
    const started = await asBrowser(t, admin, {
      method: 'POST',
      url: `/v1/orgs/victim/sso/connections/${connection.id}/test`,
    });
    assert.equal(started.statusCode, 200, started.body);
    const url = new URL(started.json().url);
    const trip = await ssoTrip(t, url.pathname + url.search, (u) => idp.authorize(u), {
      cookies: admin.cookies,
    });
    assert.equal(trip.callback.statusCode, 200, trip.callback.body);
    assert.match(trip.callback.body, /Test sign-in failed/);
    assert.match(trip.callback.body, /id_token<\/strong>: FAILED/);
    assert.match(trip.callback.body, /aud/);
    assert.equal(trip.cookies.gatehouse_session, admin.cookies.gatehouse_session, 'nobody was signed in');
  });

  it('lets only the org’s admins run a test sign-in', async () => {
    const viewer = await addMember(t, admin, 'victim', 'viewer', 'vic@victim.example');
    const res = await t.app.inject({
      method: 'GET',
      url: `/sso/${connection.id}/start?test=1`,
      cookies: viewer.cookies,
    });
    assert.equal(res.statusCode, 403, res.body);
    const outsider = await setUpOrgWithAdmin(t, 'outsider', 'root@outsider.example');
    const foreign = await t.app.inject({
      method: 'GET',
      url: `/sso/${connection.id}/start?test=1`,
      cookies: outsider.admin.cookies,
    });
    assert.equal(foreign.statusCode, 403, foreign.body);
  });

  it('refuses a replayed callback (the same code and state a second time)', async () => {
    const first = await ssoTrip(t, start(), (url) => idp.authorize(url));
    assert.equal(first.callback.statusCode, 303);
    const replay = await t.app.inject({
      method: 'GET',
      url: first.callbackUrl.pathname + first.callbackUrl.search,
      cookies: { gatehouse_sso: 'whatever' },
    });
    assert.equal(replay.statusCode, 400, replay.body);
    assert.ok(!replay.cookies.some((c) => c.name === 'gatehouse_session' && c.value !== ''));
    const failures = await auditEvents(t, orgId, 'user.sign_in_failed');
    assert.equal(failures[0]!.data.reason, 'flow_replayed');
  });

  it('refuses a callback in a browser that did not start the sign-in', async () => {
    const before = (await auditEvents(t, orgId, 'user.sign_in_failed')).length;
    const trip = await ssoTrip(t, start(), (url) => idp.authorize(url), { dropFlowCookie: true });
    assert.equal(trip.callback.statusCode, 400, trip.callback.body);
    const failures = await auditEvents(t, orgId, 'user.sign_in_failed');
    assert.equal(failures.length, before + 1);
    assert.equal(failures[0]!.data.reason, 'browser_mismatch');
  });

  it('refuses a sign-in through a disabled connection', async () => {
    await t.services.sso.updateConnection(t.services.systemContext('test'), orgId, connection.id, {
      enabled: false,
    });
    try {
      const res = await t.app.inject({ method: 'GET', url: start() });
      assert.equal(res.statusCode, 403, res.body);
    } finally {
      await t.services.sso.updateConnection(t.services.systemContext('test'), orgId, connection.id, {
        enabled: true,
      });
    }
  });

  it('refuses a callback after the sign-in expired, and purges the expired flow', async () => {
    const trip = await ssoTrip(t, start(), async (url) => {
      const back = await idp.authorize(url);
      t.clock.advance(11 * 60_000);
      return back;
    });
    assert.equal(trip.callback.statusCode, 400, trip.callback.body);
    const failures = await auditEvents(t, orgId, 'user.sign_in_failed');
    assert.equal(failures[0]!.data.reason, 'flow_expired');
    const purged = await t.services.sso.purgeExpiredFlows(t.services.systemContext('test'));
    assert.ok(purged >= 1, `purged ${purged}`);
    const left = await t.database.db
      .selectFrom('sso_flows')
      .select('state')
      .where('expires_at', '<=', t.clock.now())
      .execute();
    assert.deepEqual(left, []);
  });

  it('limits the sign-ins one address may start per minute (each writes a flow), with Retry-After', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof t.app.inject>> | undefined;
    for (let i = 0; i < 31; i++) {
      last = await t.app.inject({ method: 'GET', url: start(), remoteAddress: '10.66.0.1' });
      statuses.push(last.statusCode);
    }
    assert.deepEqual(new Set(statuses.slice(0, 30)), new Set([303]));
    assert.equal(statuses[30], 429);
    assert.ok(Number(last!.headers['retry-after']) > 0);
    const elsewhere = await t.app.inject({ method: 'GET', url: start(), remoteAddress: '10.66.0.2' });
    assert.equal(elsewhere.statusCode, 303);
  });
});
