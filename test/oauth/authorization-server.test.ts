// The authorization server at /oauth (SPEC §4) as clients find and use it: its metadata at
// every address clients try, its JWKS, and the client-credentials grant issuing JWT access
// tokens (RFC 9068) bound to the resource asked for (RFC 8707), verified here with jose
// against the JWKS the server publishes — from the client's side, including what it must
// refuse.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createTestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  oauthCall as call,
  ISSUER,
  MCP_RESOURCE as MCP,
  registerConfidentialClient,
  tokenRequest,
} from '../helpers/oauth.ts';

describeEachBackend('OAuth authorization server', (app) => {
  it('publishes the same metadata at every address clients look for it, with PKCE S256 only, code only and iss in responses', async () => {
    const t = app();
    const documents = [];
    for (const url of [
      '/.well-known/oauth-authorization-server/oauth',
      '/.well-known/oauth-authorization-server',
      '/oauth/.well-known/openid-configuration',
      '/.well-known/openid-configuration',
      '/.well-known/openid-configuration/oauth',
    ]) {
      const res = await call(t, { method: 'GET', url });
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      documents.push(res.json());
    }
    for (const document of documents.slice(1)) assert.deepEqual(document, documents[0]);
    const metadata = documents[0];
    assert.equal(metadata.issuer, ISSUER);
    assert.equal(metadata.token_endpoint, `${ISSUER}/token`);
    assert.equal(metadata.authorization_endpoint, `${ISSUER}/authorize`);
    assert.equal(metadata.jwks_uri, `${ISSUER}/jwks`);
    assert.equal(metadata.introspection_endpoint, `${ISSUER}/introspect`);
    assert.equal(metadata.revocation_endpoint, `${ISSUER}/revoke`);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(metadata.response_types_supported, ['code']);
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    assert.ok(metadata.grant_types_supported.includes('client_credentials'));
    for (const refused of ['implicit', 'password'])
      assert.ok(!metadata.grant_types_supported.includes(refused), `no ${refused} grant`);
    assert.ok(metadata.scopes_supported.includes('projects:read'), 'permission names are the scopes');
  });

  it('names itself the authorization server of /mcp and /v1 in RFC 9728 metadata, path-inserted and at the root, readable cross-origin', async () => {
    const t = app();
    const cases: [string, string][] = [
      ['/.well-known/oauth-protected-resource/mcp', MCP],
      ['/.well-known/oauth-protected-resource', MCP],
      ['/.well-known/oauth-protected-resource/v1', `${ISSUER.replace(/\/oauth$/, '')}/v1`],
    ];
    for (const [url, resource] of cases) {
      const res = await call(t, { method: 'GET', url, headers: { origin: 'https://claude.example' } });
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      const document = res.json();
      assert.equal(document.resource, resource);
      assert.deepEqual(document.authorization_servers, [ISSUER]);
      assert.deepEqual(document.bearer_methods_supported, ['header']);
      assert.ok(document.scopes_supported.includes('projects:read'));
      assert.ok(!document.resource.endsWith('/'), 'the canonical resource has no trailing slash');
    }
    const preflight = await call(t, {
      method: 'OPTIONS',
      url: '/.well-known/oauth-protected-resource/mcp',
      headers: { origin: 'https://claude.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET');
    // The authorization server's metadata is what such a client fetches next.
    const metadata = await call(t, { method: 'GET', url: '/.well-known/oauth-authorization-server/oauth' });
    assert.equal(metadata.json().issuer, ISSUER);
  });

  it("builds its URLs from a client's forwarding headers only when they come through a trusted proxy", async (test) => {
    const forged = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
    const direct = await call(app(), {
      method: 'GET',
      url: '/.well-known/openid-configuration',
      headers: forged,
    });
    assert.equal(
      direct.json().token_endpoint,
      `${ISSUER}/token`,
      'no proxy is trusted: the headers are ignored',
    );

    const behind = await createTestApp(app().kind, { GATEHOUSE_TRUST_PROXY: '127.0.0.1' });
    test.after(() => behind.close());
    const proxied = await call(behind, {
      method: 'GET',
      url: '/.well-known/openid-configuration',
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'id.example.com' },
    });
    assert.equal(
      proxied.json().token_endpoint,
      'https://id.example.com/oauth/token',
      'the trusted proxy is believed',
    );
    const untrusted = await behind.app.inject({
      method: 'GET',
      url: '/.well-known/openid-configuration',
      remoteAddress: '203.0.113.9',
      headers: { host: 'localhost:8080', ...forged },
    });
    assert.equal(untrusted.json().token_endpoint, `${ISSUER}/token`, 'a peer that is not the proxy is not');
  });

  it('answers 429 with Retry-After once an address has used up its failed client authentications, and only that address', async (test) => {
    const t = await createTestApp(app().kind, { GATEHOUSE_AUTH_FAILURES_PER_MINUTE: '3' });
    test.after(() => t.close());
    await registerConfidentialClient(t, 'svc-limited', 'a-long-random-client-secret-0006');
    const from = (remoteAddress: string, secret: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress,
        headers: {
          host: 'localhost:8080',
          authorization: `Basic ${Buffer.from(`svc-limited:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: new URLSearchParams({ grant_type: 'client_credentials', resource: MCP }).toString(),
      });
    for (let i = 0; i < 3; i++) assert.equal((await from('198.51.100.20', `guess-${i}`)).statusCode, 401);
    const blocked = await from('198.51.100.20', 'a-long-random-client-secret-0006');
    assert.equal(blocked.statusCode, 429, blocked.body);
    assert.equal(blocked.headers['retry-after'], '60');
    assert.equal(blocked.json().error, 'temporarily_unavailable');
    assert.equal(
      (await from('198.51.100.21', 'a-long-random-client-secret-0006')).statusCode,
      200,
      'another address',
    );
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/oauth/jwks', remoteAddress: '198.51.100.20' })).statusCode,
      200,
      'only the endpoints where clients authenticate are limited',
    );
    t.clock.advance(61_000);
    assert.equal(
      (await from('198.51.100.20', 'a-long-random-client-secret-0006')).statusCode,
      200,
      'the window passed',
    );
  });

  it('serves ES256 public keys only — the current and the next one — at the JWKS', async () => {
    const t = app();
    const res = await call(t, { method: 'GET', url: '/oauth/jwks' });
    assert.equal(res.statusCode, 200);
    const { keys } = res.json() as { keys: Record<string, string>[] };
    assert.equal(keys.length, 2, 'current and next');
    for (const key of keys) {
      assert.equal(key.kty, 'EC');
      assert.equal(key.crv, 'P-256');
      assert.equal(key.alg, 'ES256');
      assert.ok(key.kid);
      assert.equal(key.d, undefined, 'no private part');
    }
  });

  it('issues a client-credentials JWT access token bound to the resource, verifiable against the JWKS', async () => {
    const t = app();
    await registerConfidentialClient(t, 'svc-reporting', 'a-long-random-client-secret-0001');
    const res = await tokenRequest(t, 'svc-reporting', 'a-long-random-client-secret-0001', {
      grant_type: 'client_credentials',
      resource: MCP,
      scope: 'projects:read',
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    assert.equal(body.scope, 'projects:read');
    const jwks = createLocalJWKSet((await call(t, { method: 'GET', url: '/oauth/jwks' })).json());
    const header = decodeProtectedHeader(body.access_token);
    assert.equal(header.typ, 'at+jwt');
    assert.equal(header.alg, 'ES256');
    const { payload } = await jwtVerify(body.access_token, jwks, {
      issuer: ISSUER,
      audience: MCP,
      typ: 'at+jwt',
      // oidc-provider stamps tokens with the real time; the app's manual clock is elsewhere.
      currentDate: new Date(),
    });
    assert.equal(payload.client_id, 'svc-reporting');
    assert.equal(payload.scope, 'projects:read');
    assert.equal((payload.exp as number) - (payload.iat as number), 3600);
  });

  it('refuses a wrong client secret, an unknown resource and the password grant, and grants no scope that is not a permission', async () => {
    const t = app();
    await registerConfidentialClient(t, 'svc-refused', 'a-long-random-client-secret-0002');
    const wrongSecret = await tokenRequest(t, 'svc-refused', 'not-the-secret', {
      grant_type: 'client_credentials',
      resource: MCP,
    });
    assert.equal(wrongSecret.statusCode, 401, wrongSecret.body);
    assert.equal(wrongSecret.json().error, 'invalid_client');
    const elsewhere = await tokenRequest(t, 'svc-refused', 'a-long-random-client-secret-0002', {
      grant_type: 'client_credentials',
      resource: 'https://elsewhere.example/api',
    });
    assert.equal(elsewhere.statusCode, 400, elsewhere.body);
    assert.equal(elsewhere.json().error, 'invalid_target');
    const badScope = await tokenRequest(t, 'svc-refused', 'a-long-random-client-secret-0002', {
      grant_type: 'client_credentials',
      resource: MCP,
      scope: 'root:everything',
    });
    // RFC 6749 §3.3 lets the server grant less than asked: an unknown scope is left out,
    // never granted.
    assert.equal(badScope.statusCode, 200, badScope.body);
    assert.equal(badScope.json().scope, undefined);
    const [, claims] = (badScope.json().access_token as string).split('.');
    assert.equal(JSON.parse(Buffer.from(claims!, 'base64url').toString()).scope, undefined);
    const password = await tokenRequest(t, 'svc-refused', 'a-long-random-client-secret-0002', {
      grant_type: 'password',
      username: 'a',
      password: 'b',
    });
    assert.equal(password.statusCode, 400, password.body);
    assert.equal(password.json().error, 'unsupported_grant_type');
  });
});
