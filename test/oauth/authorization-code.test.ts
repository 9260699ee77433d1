// The authorization code flow as an MCP client or the CLI runs it against /oauth: dynamic
// registration of a public client, the browser sent to Gatehouse's sign-in and consent pages,
// the code exchanged with its PKCE verifier for a token bound to the resource, refresh with
// rotation, consent remembered per user and client, and revoked from /v1/me/grants. The
// browser is app.inject() with a cookie jar; test/mcp drives a real one.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  addMember,
  type Browser,
  form,
  hiddenField,
  setUpOrgWithAdmin,
  signIn,
  type TestApp,
} from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  absorb,
  followToClient,
  ISSUER,
  MCP_RESOURCE,
  oauthCall,
  PUBLIC_URL,
  registerPublicClient,
  verifyAccessToken,
} from '../helpers/oauth.ts';

const API_RESOURCE = `${PUBLIC_URL}/v1`;

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function register(t: TestApp, metadata: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return oauthCall(t, { method: 'POST', url: '/oauth/register', payload: metadata });
}

const registerMcpClient = (t: TestApp, redirectUri = 'http://127.0.0.1:33418/callback') =>
  registerPublicClient(t, redirectUri);

interface Authorization {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly resource?: string;
  readonly scope: string;
}

/**
 * Follows the browser from /oauth/authorize to the client's redirect: the continue page after
 * sign-in, and the consent page when `consent` says what to answer (or fails if it appears
 * when it should not). Returns the redirect's query and whether consent was asked.
 */
async function authorize(
  t: TestApp,
  user: Browser,
  request: Authorization,
  consent: 'approve' | 'deny' | 'must_not_ask',
  challenge = pkce().challenge,
): Promise<{ callback: URL; askedConsent: boolean }> {
  const jar: Record<string, string> = { ...user.cookies };
  const params = new URLSearchParams({
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    response_type: 'code',
    scope: request.scope,
    state: 'st4te',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  if (request.resource) params.set('resource', request.resource);
  return followToClient(t, jar, `/oauth/authorize?${params}`, consent);
}

/** The client's code exchange: the code with its redirect URI, PKCE verifier and resource. */
function redeem(
  t: TestApp,
  clientId: string,
  code: string,
  redirectUri: string,
  verifier: string,
  resource: string,
) {
  return exchange(t, clientId, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
    resource,
  });
}

async function exchange(t: TestApp, clientId: string, fields: Record<string, string>) {
  return oauthCall(t, {
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ client_id: clientId, ...fields }).toString(),
  });
}

describeEachBackend('OAuth authorization code flow', (app) => {
  it('registers a public client, signs in, consents, exchanges the code and refreshes with rotation', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'ac-flow');
    const clientId = await registerMcpClient(t);
    const { challenge } = pkce();
    // The client listens on another port than it registered: loopback matches on any port.
    const redirectUri = 'http://127.0.0.1:50123/callback';
    const request = { clientId, redirectUri, resource: MCP_RESOURCE, scope: 'members:read projects:read' };
    const { callback, askedConsent } = await authorize(t, admin, request, 'approve', challenge);
    assert.equal(askedConsent, true);
    assert.equal(`${callback.origin}${callback.pathname}`, redirectUri);
    assert.equal(callback.searchParams.get('iss'), ISSUER, 'RFC 9207 iss in the authorization response');
    assert.equal(callback.searchParams.get('state'), 'st4te');
    const code = callback.searchParams.get('code');
    assert.ok(code, callback.href);

    const wrongVerifier = await redeem(t, clientId, code, redirectUri, pkce().verifier, MCP_RESOURCE);
    assert.equal(wrongVerifier.statusCode, 400, wrongVerifier.body);
    assert.equal(wrongVerifier.json().error, 'invalid_grant');

    const { verifier: v2, challenge: c2 } = pkce();
    const second = await authorize(t, admin, request, 'must_not_ask', c2);
    const code2 = second.callback.searchParams.get('code')!;
    const tokens = await redeem(t, clientId, code2, redirectUri, v2, MCP_RESOURCE);
    assert.equal(tokens.statusCode, 200, tokens.body);
    const issued = tokens.json();
    assert.ok(issued.refresh_token, 'a client holding refresh_token gets one without offline_access');
    const { payload } = await verifyAccessToken(t, issued.access_token);
    assert.equal(payload.aud, MCP_RESOURCE);
    assert.equal(payload.sub, admin.userId);
    assert.deepEqual(String(payload.scope).split(' ').sort(), ['members:read', 'projects:read']);
    assert.equal(payload.client_id, clientId);

    const refreshed = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token,
      resource: MCP_RESOURCE,
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const rotated = refreshed.json();
    assert.notEqual(rotated.refresh_token, issued.refresh_token, 'rotated on use');
    assert.equal((await verifyAccessToken(t, rotated.access_token)).payload.aud, MCP_RESOURCE);

    // The grant is bound to the MCP resource: a refresh cannot widen it to /v1.
    const widened = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: rotated.refresh_token,
      resource: API_RESOURCE,
    });
    assert.equal(widened.statusCode, 400, widened.body);
    assert.equal(widened.json().error, 'invalid_target');

    // Presenting the spent refresh token again revokes the grant: the rotated one stops too.
    const reuse = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token,
    });
    assert.equal(reuse.statusCode, 400);
    assert.equal(reuse.json().error, 'invalid_grant');
    const afterReuse = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: rotated.refresh_token,
    });
    assert.equal(afterReuse.statusCode, 400, afterReuse.body);
    assert.equal(afterReuse.json().error, 'invalid_grant');

    // A code presented twice: refused, and what the first exchange issued is revoked with it.
    const { verifier: v3, challenge: c3 } = pkce();
    // The reuse revoked the grant itself: the user is asked again.
    const third = await authorize(t, admin, request, 'approve', c3);
    assert.equal(third.askedConsent, true);
    const code3 = third.callback.searchParams.get('code')!;
    const exchangeThird = () => redeem(t, clientId, code3, redirectUri, v3, MCP_RESOURCE);
    const firstUse = await exchangeThird();
    assert.equal(firstUse.statusCode, 200, firstUse.body);
    const replay = await exchangeThird();
    assert.equal(replay.statusCode, 400, 'a code works once');
    assert.equal(replay.json().error, 'invalid_grant');
    const afterReplay = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: firstUse.json().refresh_token,
    });
    assert.equal(afterReplay.statusCode, 400, afterReplay.body);
  });

  it("keeps refresh tokens working after the library's sign-in session has ended", async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'ac-offline');
    const clientId = await registerMcpClient(t);
    const redirectUri = 'http://127.0.0.1:50124/callback';
    const request = { clientId, redirectUri, resource: MCP_RESOURCE, scope: 'projects:read' };
    const { verifier, challenge } = pkce();
    const { callback } = await authorize(t, admin, request, 'approve', challenge);
    const code = callback.searchParams.get('code')!;
    const tokens = await redeem(t, clientId, code, redirectUri, verifier, MCP_RESOURCE);
    assert.equal(tokens.statusCode, 200, tokens.body);
    // The library's session (its own cookie, a day long) is gone, as after a day or a sign-out:
    // an MCP client or the CLI keeps refreshing for as long as the refresh token lives.
    const sessions = await t.services.database.db
      .deleteFrom('oauth_artifacts')
      .where('model', '=', 'Session')
      .executeTakeFirst();
    assert.ok(Number(sessions.numDeletedRows) >= 1, 'the sign-in left a session');
    const refreshed = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: tokens.json().refresh_token,
      resource: MCP_RESOURCE,
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    assert.equal((await verifyAccessToken(t, refreshed.json().access_token)).payload.sub, admin.userId);

    // The user is read with the refresh token (one query): a user no longer active is refused.
    await t.services.database.db
      .updateTable('users')
      .set({ status: 'suspended' })
      .where('id', '=', admin.userId)
      .execute();
    const refused = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: refreshed.json().refresh_token,
      resource: MCP_RESOURCE,
    });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json().error, 'invalid_grant');
  });

  it('never redeems a code or a refresh token presented twice at the same moment for both', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'ac-race');
    const clientId = await registerMcpClient(t);
    const redirectUri = 'http://127.0.0.1:50125/callback';
    const request = { clientId, redirectUri, resource: MCP_RESOURCE, scope: 'projects:read' };
    const successes = (answers: { statusCode: number }[]) =>
      answers.filter((a) => a.statusCode === 200).length;
    const bodies = (answers: { body: string }[]) => answers.map((a) => a.body).join('\n');
    // Whichever way the two interleave, one token chain at most comes of it: when both read
    // the artifact unspent, the first write wins and the other is refused; when the second
    // reads it spent, that is a replay and the grant is revoked (RFC 6749 §4.1.2, RFC 9700).
    for (let round = 0; round < 3; round += 1) {
      const { verifier, challenge } = pkce();
      const { callback } = await authorize(t, admin, request, 'approve', challenge);
      const code = callback.searchParams.get('code')!;
      const redemptions = await Promise.all([
        redeem(t, clientId, code, redirectUri, verifier, MCP_RESOURCE),
        redeem(t, clientId, code, redirectUri, verifier, MCP_RESOURCE),
      ]);
      assert.ok(successes(redemptions) <= 1, bodies(redemptions));
      const issued = redemptions.find((r) => r.statusCode === 200)?.json();
      if (!issued) continue;
      const refresh = () =>
        exchange(t, clientId, {
          grant_type: 'refresh_token',
          refresh_token: issued.refresh_token,
          resource: MCP_RESOURCE,
        });
      const refreshes = await Promise.all([refresh(), refresh()]);
      assert.ok(successes(refreshes) <= 1, bodies(refreshes));
      for (const refused of refreshes.filter((r) => r.statusCode !== 200))
        assert.equal(refused.json().error, 'invalid_grant');
    }
  });

  it('sends a signed-out browser to /login, then back through consent; a denial reaches the client as access_denied', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'ac-login');
    const clientId = await registerMcpClient(t);
    const params = new URLSearchParams({
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:33418/callback',
      response_type: 'code',
      scope: 'projects:read',
      resource: MCP_RESOURCE,
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    const jar: Record<string, string> = {};
    const start = await oauthCall(t, { method: 'GET', url: `/oauth/authorize?${params}` });
    absorb(jar, start);
    assert.equal(start.statusCode, 303, start.body);
    const interaction = start.headers.location as string;
    assert.match(interaction, /^\/oauth\/interaction\/[\w-]+$/);
    const page = await oauthCall(t, { method: 'GET', url: interaction, cookies: jar });
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, `/login?return_to=${encodeURIComponent(interaction)}`);

    // Another browser (no interaction cookie) cannot pick the interaction up, signed in or not.
    const elsewhere = await oauthCall(t, { method: 'GET', url: interaction, cookies: admin.cookies });
    assert.equal(elsewhere.statusCode, 400);
    assert.match(elsewhere.headers['content-type'] as string, /^text\/html/);
    assert.match(elsewhere.body, /This sign-in request has expired or was already completed/);
    const forged = await oauthCall(t, {
      method: 'POST',
      url: interaction,
      cookies: admin.cookies,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ csrf_token: 'x', decision: 'approve' }),
    });
    assert.equal(forged.statusCode, 403, 'the form CSRF check refuses it before anything else');

    // The same interaction finished by the user after signing in: here, declined.
    const denied = await authorize(
      t,
      admin,
      {
        clientId,
        redirectUri: 'http://127.0.0.1:33418/callback',
        resource: MCP_RESOURCE,
        scope: 'projects:read',
      },
      'deny',
    );
    assert.equal(denied.callback.searchParams.get('error'), 'access_denied');
    assert.equal(denied.callback.searchParams.get('code'), null);
  });

  it('remembers consent per user and client, lists it at /v1/me/grants and revokes it there', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'ac-grants');
    await addMember(t, admin, 'ac-grants', 'user', 'dev@ac-grants.example');
    const dev = await signIn(t, 'dev@ac-grants.example');
    const clientId = await registerMcpClient(t);
    const request = {
      clientId,
      redirectUri: 'http://127.0.0.1:33418/callback',
      resource: MCP_RESOURCE,
      scope: 'projects:read profile:own',
    };
    assert.equal((await authorize(t, admin, request, 'approve')).askedConsent, true);
    // Another user of the same client is asked on their own.
    assert.equal((await authorize(t, dev, request, 'approve')).askedConsent, true);
    // Asking for another resource is a new consent.
    assert.equal(
      (await authorize(t, admin, { ...request, resource: API_RESOURCE }, 'approve')).askedConsent,
      true,
    );

    const listed = await t.app.inject({ method: 'GET', url: '/v1/me/grants', cookies: admin.cookies });
    assert.equal(listed.statusCode, 200, listed.body);
    const grants = listed.json().data as {
      client: { id: string; name: string };
      resource: string;
      scopes: string[];
    }[];
    assert.deepEqual(grants.map((g) => g.resource).sort(), [MCP_RESOURCE, API_RESOURCE].sort());
    assert.ok(grants.every((g) => g.client.id === clientId && g.client.name === 'Test MCP Client'));

    const { verifier, challenge } = pkce();
    const { callback } = await authorize(t, admin, request, 'must_not_ask', challenge);
    const tokens = (
      await redeem(
        t,
        clientId,
        callback.searchParams.get('code')!,
        request.redirectUri,
        verifier,
        MCP_RESOURCE,
      )
    ).json();
    // A token for the JSON API, used (so verified and cached) before the consent is revoked.
    const apiPkce = pkce();
    const forApi = await authorize(
      t,
      admin,
      { ...request, resource: API_RESOURCE },
      'must_not_ask',
      apiPkce.challenge,
    );
    const apiTokens = (
      await redeem(
        t,
        clientId,
        forApi.callback.searchParams.get('code')!,
        request.redirectUri,
        apiPkce.verifier,
        API_RESOURCE,
      )
    ).json();
    const meWithToken = () =>
      t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `Bearer ${apiTokens.access_token}` },
      });
    for (let i = 0; i < 2; i++) {
      const me = await meWithToken();
      assert.equal(me.statusCode, 200, me.body);
    }
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/grants/${encodeURIComponent(clientId)}`,
      cookies: admin.cookies,
      headers: { 'x-csrf-token': admin.csrfToken },
    });
    assert.equal(revoked.statusCode, 204, revoked.body);
    const refresh = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    assert.equal(refresh.statusCode, 400, 'the refresh token of a revoked grant is refused');
    assert.equal(refresh.json().error, 'invalid_grant');
    // The access token stops at once, though it has not expired and was cached.
    const afterRevoke = await meWithToken();
    assert.equal(afterRevoke.statusCode, 401, afterRevoke.body);
    assert.equal(afterRevoke.json().error.code, 'access_token_revoked');
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/grants/${encodeURIComponent(clientId)}`,
      cookies: admin.cookies,
      headers: { 'x-csrf-token': admin.csrfToken },
    });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error.code, 'oauth_consent_not_found');
    assert.equal(
      (await authorize(t, admin, request, 'approve')).askedConsent,
      true,
      'asked again after revoking',
    );
    // The other user's consent is untouched.
    const devGrants = await t.app.inject({ method: 'GET', url: '/v1/me/grants', cookies: dev.cookies });
    assert.equal(devGrants.json().data.length, 1);
  });

  it('shows an org admin the clients members authorized, and revokes one for all of them', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'ac-apps');
    await addMember(t, admin, 'ac-apps', 'user', 'dev@ac-apps.example');
    const dev = await signIn(t, 'dev@ac-apps.example');
    const { admin: stranger } = await setUpOrgWithAdmin(t, 'ac-other');
    const clientId = await registerMcpClient(t);
    const request = {
      clientId,
      redirectUri: 'http://127.0.0.1:33418/callback',
      resource: MCP_RESOURCE,
      scope: 'projects:read',
    };
    await authorize(t, admin, request, 'approve');
    const { verifier, challenge } = pkce();
    const devCode = (await authorize(t, dev, request, 'approve', challenge)).callback.searchParams.get(
      'code',
    )!;
    const devTokens = (
      await redeem(t, clientId, devCode, request.redirectUri, verifier, MCP_RESOURCE)
    ).json();
    const asAdmin = (who: Browser, method: 'GET' | 'DELETE', url: string) =>
      t.app.inject({ method, url, cookies: who.cookies, headers: { 'x-csrf-token': who.csrfToken } });

    const listed = await asAdmin(admin, 'GET', '/v1/orgs/ac-apps/oauth-clients');
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual(
      listed
        .json()
        .data.map((c: { client: { id: string }; members: number; registration: string }) => [
          c.client.id,
          c.members,
          c.registration,
        ]),
      [[clientId, 2, 'dynamic']],
    );
    // A member may not see or revoke it; an admin of another org sees none of it.
    assert.equal((await asAdmin(dev, 'GET', '/v1/orgs/ac-apps/oauth-clients')).statusCode, 403);
    const path = `/v1/orgs/ac-apps/oauth-clients/${encodeURIComponent(clientId)}`;
    assert.equal((await asAdmin(dev, 'DELETE', path)).statusCode, 403);
    assert.equal((await asAdmin(stranger, 'DELETE', path)).statusCode, 404);
    assert.deepEqual((await asAdmin(stranger, 'GET', '/v1/orgs/ac-other/oauth-clients')).json().data, []);
    const elsewhere = await asAdmin(
      stranger,
      'DELETE',
      `/v1/orgs/ac-other/oauth-clients/${encodeURIComponent(clientId)}`,
    );
    assert.equal(elsewhere.statusCode, 404, 'no member of that org authorized it');
    assert.equal(elsewhere.json().error.code, 'oauth_consent_not_found');

    const revoked = await asAdmin(admin, 'DELETE', path);
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal(revoked.json().revoked_members, 2);
    const refresh = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: devTokens.refresh_token,
    });
    assert.equal(refresh.statusCode, 400, "the member's refresh token is refused");
    assert.deepEqual((await asAdmin(admin, 'GET', '/v1/orgs/ac-apps/oauth-clients')).json().data, []);
    assert.deepEqual(
      (await t.app.inject({ method: 'GET', url: '/v1/me/grants', cookies: dev.cookies })).json().data,
      [],
    );
    const audit = (await asAdmin(admin, 'GET', '/v1/orgs/ac-apps/audit')).json().data as {
      action: string;
      actor: { id: string };
      target: { id: string };
    }[];
    const event = audit.find((e) => e.action === 'oauth_client.revoked');
    assert.ok(event, JSON.stringify(audit.map((e) => e.action)));
    assert.equal(event.actor.id, admin.userId);
    assert.equal(event.target.id, clientId);
  });

  it('introspects and revokes its own JWT access tokens at /oauth/introspect and /oauth/revoke', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'ac-intro');
    const clientId = await registerMcpClient(t);
    const otherClient = await registerMcpClient(t);
    const request = {
      clientId,
      redirectUri: 'http://127.0.0.1:33418/callback',
      resource: API_RESOURCE,
      scope: 'profile:own',
    };
    const { verifier, challenge } = pkce();
    const { callback } = await authorize(t, admin, request, 'approve', challenge);
    const tokens = (
      await redeem(
        t,
        clientId,
        callback.searchParams.get('code')!,
        request.redirectUri,
        verifier,
        API_RESOURCE,
      )
    ).json();
    const post = (url: string, fields: Record<string, string>) =>
      oauthCall(t, {
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      });
    const introspect = async (asClient: string) => {
      const res = await post('/oauth/introspect', { client_id: asClient, token: tokens.access_token });
      assert.equal(res.statusCode, 200, res.body);
      return res.json();
    };
    const own = await introspect(clientId);
    assert.equal(own.active, true);
    assert.equal(own.sub, admin.userId);
    assert.equal(own.aud, API_RESOURCE);
    assert.equal(own.scope, 'profile:own');
    assert.equal(own.client_id, clientId);
    assert.deepEqual(await introspect(otherClient), { active: false }, "another client's token says nothing");
    assert.deepEqual(
      (
        await post('/oauth/introspect', {
          client_id: clientId,
          token: `${tokens.access_token.slice(0, -4)}AAAA`,
        })
      ).json(),
      { active: false },
    );

    // Another client cannot revoke it; its own client can, which ends the grant.
    assert.equal(
      (await post('/oauth/revoke', { client_id: otherClient, token: tokens.access_token })).statusCode,
      200,
    );
    const me = () =>
      t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
    assert.equal((await me()).statusCode, 200, 'untouched by another client');
    const revoked = await post('/oauth/revoke', { client_id: clientId, token: tokens.access_token });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal((await introspect(clientId)).active, false);
    const after = await me();
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().error.code, 'access_token_revoked');
    const refresh = await exchange(t, clientId, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    assert.equal(
      refresh.json().error,
      'invalid_grant',
      'the refresh token of the revoked grant goes with it',
    );
  });

  it('refuses registrations outside the policy: confidential, client credentials, plain http, no redirect', async () => {
    const t = app();
    const base = { client_name: 'x', grant_types: ['authorization_code'], response_types: ['code'] };
    const cases: [Record<string, unknown>, string][] = [
      [
        {
          ...base,
          redirect_uris: ['https://app.example/cb'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        'invalid_client_metadata',
      ],
      [
        { ...base, redirect_uris: ['https://app.example/cb'], grant_types: ['client_credentials'] },
        'invalid_client_metadata',
      ],
      [{ ...base, redirect_uris: ['http://app.example/cb'] }, 'invalid_redirect_uri'],
      [{ ...base, redirect_uris: ['https://127.0.0.1/cb'] }, 'invalid_redirect_uri'],
      [{ ...base, redirect_uris: ['myapp://callback'] }, 'invalid_redirect_uri'],
      [{ ...base, redirect_uris: [] }, 'invalid_redirect_uri'],
    ];
    for (const [metadata, error] of cases) {
      const res = await register(t, metadata);
      assert.equal(res.statusCode, 400, `${JSON.stringify(metadata)} → ${res.body}`);
      assert.equal(res.json().error, error, JSON.stringify(metadata));
    }
    const accepted = await register(t, { ...base, redirect_uris: ['https://app.example/cb'] });
    assert.equal(accepted.statusCode, 201);
    // Readable from a browser-based client's own origin, preflight included.
    assert.equal(accepted.headers['access-control-allow-origin'], '*');
    const preflight = await oauthCall(t, {
      method: 'OPTIONS',
      url: '/oauth/register',
      headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-methods'], 'POST');
  });

  it('refuses authorization without PKCE, with plain PKCE, and to a redirect URI not registered', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'ac-bad');
    const clientId = await registerMcpClient(t);
    const good = {
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:33418/callback',
      response_type: 'code',
      scope: 'projects:read',
      resource: MCP_RESOURCE,
    };
    const attempt = (params: Record<string, string>) =>
      oauthCall(t, {
        method: 'GET',
        url: `/oauth/authorize?${new URLSearchParams(params)}`,
        cookies: admin.cookies,
      });
    const noPkce = await attempt(good);
    assert.equal(noPkce.statusCode, 303);
    assert.match(String(noPkce.headers.location), /error=invalid_request/);
    assert.match(String(noPkce.headers.location), /PKCE/);
    const plain = await attempt({ ...good, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
    assert.match(String(plain.headers.location), /error=invalid_request/);
    // Never redirected to an unregistered URI: the error is shown here.
    for (const redirect_uri of [
      'http://127.0.0.1:33418/other',
      'https://evil.example/callback',
      'http://localhost:33418/callback',
    ]) {
      const res = await attempt({
        ...good,
        redirect_uri,
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      });
      assert.equal(res.statusCode, 400, `${redirect_uri}: ${res.statusCode} ${res.headers.location ?? ''}`);
      assert.equal(res.headers.location, undefined);
    }
  });
});

/** A browser step: follows redirects and continue pages on this host until a page to act on. */
async function browse(
  t: TestApp,
  jar: Record<string, string>,
  first: { method: 'GET' | 'POST'; url: string; form?: Record<string, string> },
): Promise<{ body: string; url: string }> {
  let step: { method: 'GET' | 'POST'; url: string; form?: Record<string, string> } = first;
  for (let hop = 0; hop < 12; hop++) {
    const res = await oauthCall(t, {
      method: step.method,
      url: step.url,
      cookies: jar,
      ...(step.form
        ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form(step.form) }
        : {}),
    });
    absorb(jar, res);
    if (res.statusCode === 302 || res.statusCode === 303) {
      step = { method: 'GET', url: String(res.headers.location).replace(PUBLIC_URL, '') };
      continue;
    }
    const refresh = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(res.body);
    if (res.statusCode === 200 && refresh) {
      step = { method: 'GET', url: refresh[1]!.replaceAll('&amp;', '&').replace(PUBLIC_URL, '') };
      continue;
    }
    assert.equal(res.statusCode, 200, `${step.url}: ${res.body.slice(0, 300)}`);
    return { body: res.body, url: step.url };
  }
  throw new Error('too many redirects');
}

describeEachBackend('OAuth device authorization grant', (app) => {
  it('issues a device code, the user enters it, signs in and consents, and the device gets its token', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'dev-flow');
    const registered = await register(t, {
      client_name: 'Test CLI',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'none',
    });
    assert.equal(registered.statusCode, 201, registered.body);
    const clientId = registered.json().client_id as string;
    const started = await oauthCall(t, {
      method: 'POST',
      url: '/oauth/device/auth',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ client_id: clientId, scope: 'profile:own', resource: API_RESOURCE }),
    });
    assert.equal(started.statusCode, 200, started.body);
    const device = started.json();
    assert.equal(device.verification_uri, `${ISSUER}/device`);
    assert.match(device.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(device.expires_in, 600, 'the code must be entered within 10 minutes');
    const poll = () =>
      exchange(t, clientId, {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: device.device_code,
      });
    const pending = await poll();
    assert.equal(pending.statusCode, 400);
    assert.equal(pending.json().error, 'authorization_pending');

    const jar: Record<string, string> = { ...admin.cookies };
    const entry = await browse(t, jar, { method: 'GET', url: '/oauth/device' });
    assert.match(entry.body, /Enter the code your device shows/);
    // A wrong code is refused on the page, and nothing is issued.
    const wrong = await browse(t, jar, {
      method: 'POST',
      url: '/oauth/device',
      form: { xsrf: hiddenField(entry.body, 'xsrf'), user_code: 'BBBB-BBBB' },
    });
    assert.match(wrong.body, /That code is not valid/);
    const confirm = await browse(t, jar, {
      method: 'POST',
      url: '/oauth/device',
      form: { xsrf: hiddenField(wrong.body, 'xsrf'), user_code: device.user_code },
    });
    assert.match(confirm.body, /Test CLI/);
    assert.ok(confirm.body.includes(device.user_code), 'the confirmation shows the code to compare');
    const consent = await browse(t, jar, {
      method: 'POST',
      url: '/oauth/device',
      form: { xsrf: hiddenField(confirm.body, 'xsrf'), user_code: device.user_code, confirm: 'yes' },
    });
    assert.match(consent.body, /Authorize Test CLI\?/);
    assert.match(consent.body, /signs in on the device/);
    const done = await browse(t, jar, {
      method: 'POST',
      url: consent.url,
      form: { csrf_token: hiddenField(consent.body, 'csrf_token'), decision: 'approve' },
    });
    assert.match(done.body, /Device signed in/);

    const tokens = await poll();
    assert.equal(tokens.statusCode, 200, tokens.body);
    const me = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${tokens.json().access_token}` },
    });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().principal.id, admin.userId);
    const again = await poll();
    assert.equal(again.statusCode, 400, 'a device code is exchanged once');
  });
});
