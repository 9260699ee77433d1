// Talking to the authorization server at /oauth as a client does, through app.inject().
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { createLocalJWKSet, type JWTVerifyResult, jwtVerify } from 'jose';
import { createOauthAdapter } from '../../src/oauth/adapter.ts';
import { form, hiddenField, type TestApp } from './app.ts';

export const PUBLIC_URL = 'http://localhost:8080';
export const ISSUER = `${PUBLIC_URL}/oauth`;
export const MCP_RESOURCE = `${PUBLIC_URL}/mcp`;

/** A request as it arrives at the public URL (oidc-provider builds its URLs from the Host). */
export function oauthCall(t: TestApp, options: InjectOptions) {
  return t.app.inject({ ...options, headers: { host: 'localhost:8080', ...(options.headers ?? {}) } });
}

/** A browser's cookie jar for one host; oidc-provider's cookies are per path, but one name holds one value at a time. */
export function absorb(jar: Record<string, string>, response: LightMyRequestResponse): void {
  for (const c of response.cookies as { name: string; value: string; maxAge?: number }[]) {
    if (c.value === '' || c.maxAge === 0) delete jar[c.name];
    else jar[c.name] = c.value;
  }
}

/** A public client with the code and refresh grants, registered as an MCP client does (RFC 7591). */
export async function registerPublicClient(
  t: TestApp,
  redirectUri: string,
  clientName = 'Test MCP Client',
): Promise<string> {
  const res = await oauthCall(t, {
    method: 'POST',
    url: '/oauth/register',
    payload: {
      client_name: clientName,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  const body = res.json();
  assert.equal(body.client_secret, undefined, 'a dynamically registered client is public');
  return body.client_id as string;
}

/**
 * Follows a signed-in browser from `location` (on Gatehouse) to the client's redirect: the
 * redirects, the continue page after sign-in, and the consent page when `consent` says what
 * to answer (or fails if it appears when it should not). Returns the redirect and whether
 * consent was asked; `onConsentPage` sees the consent page before it is answered.
 */
export async function followToClient(
  t: TestApp,
  jar: Record<string, string>,
  location: string,
  consent: 'approve' | 'deny' | 'must_not_ask',
  onConsentPage: (body: string) => void = () => {},
): Promise<{ callback: URL; askedConsent: boolean }> {
  let askedConsent = false;
  for (let hop = 0; hop < 12; hop++) {
    const url = new URL(location, PUBLIC_URL);
    if (url.origin !== PUBLIC_URL) return { callback: url, askedConsent };
    const res = await oauthCall(t, { method: 'GET', url: `${url.pathname}${url.search}`, cookies: jar });
    absorb(jar, res);
    if (res.statusCode === 303 || res.statusCode === 302) {
      location = res.headers.location as string;
      continue;
    }
    assert.equal(res.statusCode, 200, res.body);
    const refresh = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(res.body);
    if (refresh) {
      location = refresh[1]!.replaceAll('&amp;', '&');
      continue;
    }
    assert.match(res.body, /Authorize /, 'the consent page');
    assert.notEqual(consent, 'must_not_ask', 'consent was remembered');
    onConsentPage(res.body);
    askedConsent = true;
    const posted = await oauthCall(t, {
      method: 'POST',
      url: url.pathname,
      cookies: jar,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ csrf_token: hiddenField(res.body, 'csrf_token'), decision: consent }),
    });
    absorb(jar, posted);
    assert.equal(posted.statusCode, 303, posted.body);
    location = posted.headers.location as string;
  }
  throw new Error('the authorization did not reach the client');
}

/**
 * A confidential client allowed the client-credentials grant, stored the way oidc-provider
 * stores registered clients (there is no admin API for clients yet).
 */
export async function registerConfidentialClient(
  t: TestApp,
  clientId: string,
  secret: string,
): Promise<void> {
  const Adapter = createOauthAdapter({ db: t.services.database.db, clock: t.clock });
  await new Adapter('Client').upsert(clientId, {
    client_id: clientId,
    client_secret: secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  });
}

export function tokenRequest(t: TestApp, clientId: string, secret: string, fields: Record<string, string>) {
  return oauthCall(t, {
    method: 'POST',
    url: '/oauth/token',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** A client-credentials access token for the MCP resource. */
export async function clientCredentialsToken(t: TestApp, clientId: string, secret: string): Promise<string> {
  const res = await tokenRequest(t, clientId, secret, {
    grant_type: 'client_credentials',
    resource: MCP_RESOURCE,
  });
  if (res.statusCode !== 200) throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
  return res.json().access_token as string;
}

export async function publishedJwks(t: TestApp): Promise<{ keys: { kid: string }[] }> {
  return (await oauthCall(t, { method: 'GET', url: '/oauth/jwks' })).json();
}

/** Verifies an access token as a resource server would, against the JWKS `t` publishes now. */
export async function verifyAccessToken(t: TestApp, token: string): Promise<JWTVerifyResult> {
  return jwtVerify(token, createLocalJWKSet(await publishedJwks(t)), {
    issuer: ISSUER,
    audience: MCP_RESOURCE,
    typ: 'at+jwt',
    // oidc-provider stamps tokens with the real time; the app's manual clock is elsewhere.
    currentDate: new Date(),
  });
}

// The part of oidc-provider's models used to issue a token as its token endpoint would once a
// user has signed in and consented: the grant the consent made, then a token under it.
interface Models {
  Client: { find(id: string): Promise<unknown> };
  Grant: new (
    properties: Record<string, unknown>,
  ) => {
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  };
  ResourceServer: new (identifier: string, data: Record<string, unknown>) => unknown;
  AccessToken: new (properties: Record<string, unknown>) => { save(): Promise<string> };
}

/** An access token for `userId` and `resource` (the MCP resource unless told), signed by the app. */
export async function userAccessToken(
  t: TestApp,
  userId: string,
  { scope, resource = MCP_RESOURCE }: { scope: string; resource?: string },
): Promise<string> {
  const clientId = `token-app-${userId}`;
  await registerConfidentialClient(t, clientId, 'a-long-random-client-secret-0006');
  const provider = t.services.oauth.provider() as unknown as Models;
  const resourceServer = new provider.ResourceServer(resource, {
    audience: resource,
    scope,
    accessTokenTTL: 3600,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' } },
  });
  const grant = new provider.Grant({ accountId: userId, clientId });
  grant.addResourceScope(resource, scope);
  const grantId = await grant.save();
  return new provider.AccessToken({
    accountId: userId,
    client: await provider.Client.find(clientId),
    grantId,
    gty: 'authorization_code',
    scope,
    resourceServer,
  }).save();
}
