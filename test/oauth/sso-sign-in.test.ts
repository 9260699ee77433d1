// An OAuth client's user who signs in through their org's SSO (SPEC §4: the same /login,
// password or the org's SSO): /oauth/authorize sends the signed-out browser to /login, home-
// realm discovery sends it to the IdP (a real OIDC provider over HTTP), and the SSO callback
// brings it back to the same interaction, then consent, then the client's redirect with a
// code whose token acts for the SSO user.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { form, hiddenField, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { ISSUER, MCP_RESOURCE, oauthCall, PUBLIC_URL, verifyAccessToken } from '../helpers/oauth.ts';
import { startTestOidcIdp, type TestOidcIdp } from '../helpers/oidc-idp.ts';
import { CALLBACK_URL, type ConnectionBody, setUpOidcConnection, ssoTrip } from '../helpers/sso.ts';

const REDIRECT_URI = 'http://127.0.0.1:41011/callback';

/** One cookie jar for the browser (inject() does not scope cookies by path). */
function absorb(jar: Record<string, string>, response: LightMyRequestResponse): void {
  for (const c of response.cookies as { name: string; value: string; maxAge?: number }[]) {
    if (c.value === '' || c.maxAge === 0) delete jar[c.name];
    else jar[c.name] = c.value;
  }
}

describeEachBackend('OAuth sign-in through SSO', (get) => {
  let t: TestApp;
  let idp: TestOidcIdp;
  let connection: ConnectionBody;

  before(async () => {
    t = get();
    // ID tokens carry the IdP's real time: Gatehouse's clock must agree with it.
    t.clock.set(Date.now());
    idp = await startTestOidcIdp({
      redirectUris: [CALLBACK_URL],
      users: [{ sub: 'idp-dana', email: 'dana@oa-sso.example', name: 'Dana', groups: ['everyone'] }],
    });
    const { admin } = await setUpOrgWithAdmin(t, 'oa-sso', 'root@oa-sso.example');
    connection = await setUpOidcConnection(t, admin, 'oa-sso', {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      domain: 'oa-sso.example',
    });
  });
  after(async () => {
    await idp?.close();
  });

  it('takes a signed-out user from /oauth/authorize through the IdP and consent to a code for them', async () => {
    const registered = await oauthCall(t, {
      method: 'POST',
      url: '/oauth/register',
      payload: {
        client_name: 'SSO MCP Client',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
    });
    assert.equal(registered.statusCode, 201, registered.body);
    const clientId = registered.json().client_id as string;
    const verifier = randomBytes(32).toString('base64url');
    const params = new URLSearchParams({
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'projects:read',
      resource: MCP_RESOURCE,
      state: 'sso-state',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });

    // The library hands the signed-out browser to the interaction, the interaction to /login.
    const jar: Record<string, string> = {};
    const start = await oauthCall(t, { method: 'GET', url: `/oauth/authorize?${params}` });
    absorb(jar, start);
    const interaction = start.headers.location as string;
    assert.match(interaction, /^\/oauth\/interaction\/[\w-]+$/);
    const toLogin = await oauthCall(t, { method: 'GET', url: interaction, cookies: jar });
    assert.equal(toLogin.headers.location, `/login?return_to=${encodeURIComponent(interaction)}`);

    // The user types only their email; discovery continues to the org's SSO, keeping where to return.
    const loginPage = await oauthCall(t, {
      method: 'GET',
      url: toLogin.headers.location as string,
      cookies: jar,
    });
    absorb(jar, loginPage);
    assert.equal(hiddenField(loginPage.body, 'return_to'), interaction);
    const submitted = await oauthCall(t, {
      method: 'POST',
      url: '/login',
      cookies: jar,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({
        email: 'dana@oa-sso.example',
        return_to: interaction,
        csrf_token: hiddenField(loginPage.body, 'csrf_token'),
      }),
    });
    assert.equal(submitted.statusCode, 200, submitted.body);
    const ssoStart = /<a id="continue" href="([^"]+)"/.exec(submitted.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(ssoStart, submitted.body);
    assert.ok(ssoStart.startsWith(`/sso/${connection.id}/start?`), ssoStart);

    const trip = await ssoTrip(t, ssoStart, (url) => idp.authorize(url), { cookies: jar });
    assert.equal(trip.callback.statusCode, 303, trip.callback.body);
    assert.equal(trip.callback.headers.location, interaction, 'back to the same interaction');
    Object.assign(jar, trip.cookies);

    // Signed in now: the interaction continues to consent, naming the client.
    let location = interaction;
    let callback: URL | undefined;
    for (let hop = 0; hop < 10 && !callback; hop++) {
      const url = new URL(location, PUBLIC_URL);
      if (url.origin !== PUBLIC_URL) {
        callback = url;
        break;
      }
      const res = await oauthCall(t, { method: 'GET', url: `${url.pathname}${url.search}`, cookies: jar });
      absorb(jar, res);
      if (res.statusCode === 302 || res.statusCode === 303) {
        location = res.headers.location as string;
        continue;
      }
      assert.equal(res.statusCode, 200, res.body);
      const onward = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(res.body)?.[1];
      if (onward) {
        location = onward.replaceAll('&amp;', '&');
        continue;
      }
      assert.match(res.body, /Authorize /);
      assert.match(res.body, /SSO MCP Client/);
      const approved = await oauthCall(t, {
        method: 'POST',
        url: url.pathname,
        cookies: jar,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ csrf_token: hiddenField(res.body, 'csrf_token'), decision: 'approve' }),
      });
      absorb(jar, approved);
      assert.equal(approved.statusCode, 303, approved.body);
      location = approved.headers.location as string;
    }
    assert.ok(callback, 'the browser reached the client');
    assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
    assert.equal(callback.searchParams.get('iss'), ISSUER);
    assert.equal(callback.searchParams.get('state'), 'sso-state');
    const code = callback.searchParams.get('code');
    assert.ok(code, callback.toString());

    const exchanged = await oauthCall(t, {
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        client_id: clientId,
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        resource: MCP_RESOURCE,
      }).toString(),
    });
    assert.equal(exchanged.statusCode, 200, exchanged.body);
    const { payload } = await verifyAccessToken(t, exchanged.json().access_token);

    // The token acts for the user SSO provisioned, the one the browser session is.
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: jar });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().principal.auth_method, 'session:sso');
    assert.equal(payload.sub, me.json().principal.id);
    assert.deepEqual(
      me.json().orgs.map((o: { slug: string; role: string }) => [o.slug, o.role]),
      [['oa-sso', 'user']],
    );
  });
});
