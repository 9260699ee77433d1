// An OAuth client's user who signs in through their org's SSO (SPEC §4: the same /login,
// password or the org's SSO): /oauth/authorize sends the signed-out browser to /login, home-
// realm discovery sends it to the IdP (a real OIDC provider over HTTP), and the SSO callback
// brings it back to the same interaction, then consent, then the client's redirect with a
// code whose token acts for the SSO user.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { form, hiddenField, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  absorb,
  followToClient,
  ISSUER,
  MCP_RESOURCE,
  oauthCall,
  registerPublicClient,
  verifyAccessToken,
} from '../helpers/oauth.ts';
import type { TestOidcIdp } from '../helpers/oidc-idp.ts';
import { type ConnectionBody, setUpOrgWithTestIdp, ssoTrip } from '../helpers/sso.ts';

const REDIRECT_URI = 'http://127.0.0.1:41011/callback';

describeEachBackend('OAuth sign-in through SSO', (get) => {
  let t: TestApp;
  let idp: TestOidcIdp;
  let connection: ConnectionBody;

  before(async () => {
    t = get();
    ({ idp, connection } = await setUpOrgWithTestIdp(t, 'oa-sso', [
      { sub: 'idp-dana', email: 'dana@oa-sso.example', name: 'Dana', groups: ['everyone'] },
    ]));
  });
  after(async () => {
    await idp?.close();
  });

  it('takes a signed-out user from /oauth/authorize through the IdP and consent to a code for them', async () => {
    const clientId = await registerPublicClient(t, REDIRECT_URI, 'SSO MCP Client');
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
    let consentPage = '';
    const { callback } = await followToClient(t, jar, interaction, 'approve', (body) => {
      consentPage = body;
    });
    assert.match(consentPage, /SSO MCP Client/);
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
