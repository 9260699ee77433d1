// OAuth access tokens in the credential resolver (SPEC §2): a JWT issued by this server for
// `<public url>/v1` acts for its user on /v1 and forward auth, narrowed to its scopes, with
// the user's live membership deciding each org; and from the attacker's side: another
// resource's token, a forged signature, an altered payload, an expired token, a
// client-credentials token and a suspended member are refused with their own codes.
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { it, type TestContext } from 'node:test';
import { decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import { HOUR } from '../../src/core/clock.ts';
import { generateMasterKey, masterKeyId, parseMasterKey } from '../../src/core/secrets.ts';
import { createSigningKeys } from '../../src/oauth/signing-keys.ts';
import { assertError } from '../helpers/api-keys.ts';
import { addMember, asBrowser, createTestApp, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  clientCredentialsToken,
  ISSUER,
  MCP_RESOURCE,
  PUBLIC_URL,
  registerConfidentialClient,
  tokenRequest,
  userAccessToken,
} from '../helpers/oauth.ts';
import { overSocket } from '../helpers/socket-inject.ts';

const API_RESOURCE = `${PUBLIC_URL}/v1`;
const CLIENT_SECRET = 'a-long-random-client-secret-0005';

/** An access token for `userId`, issued and signed by the app's own authorization server. */
const userToken = (
  t: TestApp,
  userId: string,
  { scope = 'profile:own org:read projects:read', resource = API_RESOURCE } = {},
) => userAccessToken(t, userId, { scope, resource });

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsecured JWT (RFC 7519 §6): no signature at all. */
const unsecured = (claims: Record<string, unknown>, kid: string) =>
  `${base64url({ alg: 'none', typ: 'at+jwt', kid })}.${base64url(claims)}.`;

/** The algorithm-confusion attack: HS256 keyed with the bytes of the published public key. */
function hmacSigned(claims: Record<string, unknown>, jwk: { kid: string; x?: string; y?: string }): string {
  const input = `${base64url({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })}.${base64url(claims)}`;
  const publicJwk = JSON.stringify({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y });
  return `${input}.${createHmac('sha256', publicJwk).update(input).digest('base64url')}`;
}

const bearer = (t: TestApp, token: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
  t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload: payload as never });

describeEachBackend('OAuth access tokens', (app) => {
  it('act for their user on /v1 and forward auth, narrowed to their scopes, in the orgs the user belongs to', async () => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'tok-use');
    const dev = await addMember(t, admin, 'tok-use', 'user', 'dev@tok-use.example');
    const token = await userToken(t, dev.userId);

    const me = await bearer(t, token, 'GET', '/v1/me');
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().user.id, dev.userId);
    assert.equal((await bearer(t, token, 'GET', '/v1/orgs/tok-use/projects')).statusCode, 200);
    assertError(
      await bearer(t, token, 'POST', '/v1/orgs/tok-use/projects', { name: 'nope' }),
      403,
      'insufficient_scope',
    );

    for (const url of ['/v1/authz/check?org=tok-use', '/v1/authz/check']) {
      const check = await overSocket(t, {
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(check.statusCode, 200, check.body);
      assert.equal(check.headers['x-gatehouse-user'], dev.userId);
      assert.equal(check.headers['x-gatehouse-auth-method'], 'oauth');
      assert.equal(check.headers['x-gatehouse-principal-kind'], 'user');
      if (url.includes('org=')) {
        assert.equal(check.headers['x-gatehouse-org'], orgId);
        assert.equal(check.headers['x-gatehouse-role'], 'user', 'the live role');
      }
    }
  });

  it('refuse another resource, a forged signature, an altered payload and a client-credentials token', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'tok-bad');
    const dev = await addMember(t, admin, 'tok-bad', 'user', 'dev@tok-bad.example');
    const token = await userToken(t, dev.userId);

    const forMcp = await userToken(t, dev.userId, { resource: MCP_RESOURCE });
    assertError(
      await bearer(t, forMcp, 'GET', '/v1/me'),
      401,
      'access_token_wrong_audience',
      'Authorization',
    );

    // The same claims and the same kid, signed with a key that is not the server's.
    const [, claims] = token.split('.');
    const payload = JSON.parse(Buffer.from(claims!, 'base64url').toString());
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: decodeProtectedHeader(token).kid })
      .sign(privateKey);
    assertError(await bearer(t, forged, 'GET', '/v1/me'), 401, 'access_token_invalid');

    // The server's signature over a payload that now names the admin.
    const [header, , signature] = token.split('.');
    const altered = `${header}.${Buffer.from(JSON.stringify({ ...payload, sub: admin.userId })).toString('base64url')}.${signature}`;
    assertError(await bearer(t, altered, 'GET', '/v1/me'), 401, 'access_token_invalid');

    await registerConfidentialClient(t, 'svc-tok-bad', CLIENT_SECRET);
    const res = await tokenRequest(t, 'svc-tok-bad', CLIENT_SECRET, {
      grant_type: 'client_credentials',
      resource: API_RESOURCE,
    });
    assert.equal(res.statusCode, 200, res.body);
    assertError(await bearer(t, res.json().access_token, 'GET', '/v1/me'), 401, 'access_token_without_user');
    const forMcpClient = await clientCredentialsToken(t, 'svc-tok-bad', CLIENT_SECRET);
    assertError(await bearer(t, forMcpClient, 'GET', '/v1/me'), 401, 'access_token_wrong_audience');
    assert.equal(JSON.parse(Buffer.from(forMcpClient.split('.')[1]!, 'base64url').toString()).iss, ISSUER);
  });

  it('stop working the moment their user is suspended, on a token already verified and cached', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'tok-sus');
    const dev = await addMember(t, admin, 'tok-sus', 'user', 'dev@tok-sus.example');
    const token = await userToken(t, dev.userId);
    assert.equal((await bearer(t, token, 'GET', '/v1/orgs/tok-sus/projects')).statusCode, 200);
    const suspended = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/tok-sus/members/${dev.userId}`,
      payload: { status: 'suspended' },
    });
    assert.equal(suspended.statusCode, 200, suspended.body);
    assertError(
      await bearer(t, token, 'GET', '/v1/orgs/tok-sus/projects'),
      401,
      'access_token_user_inactive',
    );
    const check = await overSocket(t, {
      method: 'GET',
      url: '/v1/authz/check?org=tok-sus',
      headers: { authorization: `Bearer ${token}` },
    });
    assertError(check, 401, 'access_token_user_inactive', 'Authorization');
  });

  it('refuse an expired token, even one verified and cached while it was valid', async (test: TestContext) => {
    const t = await createTestApp(app().kind);
    test.after(() => t.close());
    // oidc-provider stamps tokens with the real time: the app's clock starts there too.
    t.clock.set(Date.now());
    const { admin } = await setUpOrgWithAdmin(t, 'tok-exp');
    const token = await userToken(t, admin.userId);
    assert.equal((await bearer(t, token, 'GET', '/v1/me')).statusCode, 200);
    t.clock.advance(HOUR + 60_000);
    assertError(await bearer(t, token, 'GET', '/v1/me'), 401, 'access_token_expired');
  });

  it("refuse tokens signed with the server's own key that are not its access tokens", async (test: TestContext) => {
    const secretKey = generateMasterKey();
    const t = await createTestApp(app().kind, { GATEHOUSE_SECRET_KEY: secretKey });
    test.after(() => t.close());
    t.clock.set(Date.now());
    const { admin } = await setUpOrgWithAdmin(t, 'tok-own');
    const genuine = await userToken(t, admin.userId);
    const genuineClaims = JSON.parse(Buffer.from(genuine.split('.')[1]!, 'base64url').toString());
    // The server's current private key, read as another node reads it.
    const master = parseMasterKey(secretKey);
    const keyRing = { currentKeyId: masterKeyId(master), keys: new Map([[masterKeyId(master), master]]) };
    const signingKeys = createSigningKeys({ keyRing, clock: t.clock, audit: t.services.audit });
    const { signing } = await signingKeys.load(t.services.systemContext('test-keys'));
    const serverKey = await importJWK(signing, 'ES256');

    const now = Math.floor(t.clock.now() / 1000);
    const claims = { ...genuineClaims, iat: now, exp: now + 600, jti: 'crafted-jti' };
    const header = { alg: 'ES256', typ: 'at+jwt', kid: signing.kid };
    const sign = (payload: Record<string, unknown>, protectedHeader: Record<string, unknown> = header) =>
      new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(serverKey);

    // The control: these claims under the server's key pass, so each refusal below is for
    // the one thing changed.
    assert.equal((await bearer(t, await sign(claims), 'GET', '/v1/me')).statusCode, 200);

    const refusals: [string, Promise<string> | string, string][] = [
      ['an ID token (typ JWT)', sign(claims, { ...header, typ: 'JWT' }), 'access_token_invalid'],
      ['no typ', sign(claims, { alg: 'ES256', kid: signing.kid }), 'access_token_invalid'],
      ['another issuer', sign({ ...claims, iss: 'https://idp.example/oauth' }), 'access_token_invalid'],
      [
        'a kid the server never published',
        sign(claims, { ...header, kid: 'not-a-key' }),
        'access_token_invalid',
      ],
      ['no jti', sign({ ...claims, jti: undefined }), 'access_token_invalid'],
      ['no exp', sign({ ...claims, exp: undefined }), 'access_token_invalid'],
      ['exp as a string', sign({ ...claims, exp: String(now + 600) }), 'access_token_invalid'],
      ['not valid for another ten minutes', sign({ ...claims, nbf: now + 600 }), 'access_token_invalid'],
      ['expired beyond the clock tolerance', sign({ ...claims, exp: now - 60 }), 'access_token_expired'],
      ['no aud', sign({ ...claims, aud: undefined }), 'access_token_invalid'],
      [
        'aud of another server',
        sign({ ...claims, aud: 'https://other.example/v1' }),
        'access_token_wrong_audience',
      ],
      ['aud as a number', sign({ ...claims, aud: 42 }), 'access_token_wrong_audience'],
      ['a grant that does not exist', sign({ ...claims, gid: 'no-such-grant' }), 'access_token_revoked'],
      // Without a signature it is not even shaped as a JWT; with bytes where one would be, the
      // algorithm is refused.
      ['alg none', unsecured(claims, signing.kid), 'unsupported_credential'],
      ['alg none with a signature', `${unsecured(claims, signing.kid)}c2ln`, 'access_token_invalid'],
      ['HS256 keyed with the public key', hmacSigned(claims, signing), 'access_token_invalid'],
    ];
    // Starts as every JWT does, is not one: no kind of credential takes it.
    refusals.push(['shaped like no JWT', 'eyJhbGciOiJFUzI1NiJ9.eyJ!.sig', 'unsupported_credential']);
    for (const [what, token, code] of refusals) {
      const answer = await bearer(t, await token, 'GET', '/v1/me');
      assert.equal(answer.statusCode, 401, `${what}: ${answer.body}`);
      assert.equal(answer.json().error.code, code, what);
    }
    // Within the tolerance for other nodes' clocks, an expiry just passed is not yet one.
    assert.equal(
      (await bearer(t, await sign({ ...claims, exp: now - 10, jti: 'j2' }), 'GET', '/v1/me')).statusCode,
      200,
    );
  });
});
