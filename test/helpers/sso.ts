// SSO plumbing for tests: an org's OIDC connection set up through /v1 as its admin would,
// and a browser's trip through Gatehouse's start route, the IdP, and Gatehouse's callback,
// with Gatehouse driven through inject() and the IdP over real HTTP.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { asBrowser, type Browser, form, hiddenField, setUpOrgWithAdmin, type TestApp } from './app.ts';
import { startTestOidcIdp, type TestIdpUser, type TestOidcIdp } from './oidc-idp.ts';

export const CALLBACK_URL = 'http://localhost:8080/sso/oidc/callback';

export interface ConnectionBody {
  id: string;
  has_client_secret: boolean;
  public_jwk: Record<string, unknown> | null;
  redirect_uri: string;
}

/**
 * An org `slug` with its admin (root@<slug>.example) whose domain <slug>.example signs in
 * through a test OIDC IdP knowing `users`, with the role rules given. Sets Gatehouse's clock to
 * the real time: the IdP's ID tokens carry it.
 */
export async function setUpOrgWithTestIdp(
  t: TestApp,
  slug: string,
  users: TestIdpUser[],
  rules?: { value: string; role: 'admin' | 'user' | 'viewer' }[],
): Promise<{ idp: TestOidcIdp; orgId: string; admin: Browser; connection: ConnectionBody }> {
  t.clock.set(Date.now());
  const idp = await startTestOidcIdp({ redirectUris: [CALLBACK_URL], users });
  const { orgId, admin } = await setUpOrgWithAdmin(t, slug, `root@${slug}.example`);
  const connection = await setUpOidcConnection(t, admin, slug, {
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    domain: `${slug}.example`,
    rules,
  });
  return { idp, orgId, admin, connection };
}

/** Creates the connection, claims `domain` for it (verified by the operator) and adds the role rules. */
export async function setUpOidcConnection(
  t: TestApp,
  admin: Browser,
  org: string,
  input: {
    issuer: string;
    clientId: string;
    clientSecret: string;
    domain: string;
    rules?: { value: string; role: 'admin' | 'user' | 'viewer' }[];
    preset?: string;
  },
): Promise<ConnectionBody> {
  const created = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${org}/sso/connections`,
    payload: {
      type: 'oidc',
      name: `IdP ${input.domain}`,
      preset: input.preset ?? 'okta',
      issuer: input.issuer,
      client_id: input.clientId,
      client_secret: input.clientSecret,
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const connection = created.json() as ConnectionBody;
  await routeDomain(t, admin, org, connection.id, input.domain, input.rules);
  return connection;
}

type GroupRule = { value: string; role: 'admin' | 'user' | 'viewer' };

/** Claims `domain` for the connection (verified by the operator) and adds group rules. */
async function routeDomain(
  t: TestApp,
  admin: Browser,
  org: string,
  connectionId: string,
  domainName: string,
  rules: readonly GroupRule[] = [],
): Promise<void> {
  const domain = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${org}/sso/domains`,
    payload: { domain: domainName, connection_id: connectionId, default_role: 'user' },
  });
  assert.equal(domain.statusCode, 201, domain.body);
  await t.services.sso.verifyDomainByOperator(t.services.systemContext('test'), domainName);
  for (const rule of rules) {
    const res = await asBrowser(t, admin, {
      method: 'POST',
      url: `/v1/orgs/${org}/role-rules`,
      payload: { match: 'group', value: rule.value, role: rule.role },
    });
    assert.equal(res.statusCode, 201, res.body);
  }
}

/**
 * Types the email on /login with no password, as a person does, and returns the start of
 * the SSO sign-in that home-realm discovery continues to.
 */
export async function discoverFromLogin(t: TestApp, email: string): Promise<string> {
  const page = await t.app.inject({ method: 'GET', url: '/login' });
  const csrf = page.cookies.find((c) => c.name === 'gatehouse_csrf');
  assert.ok(csrf, 'the login page sets the form cookie');
  const submitted = await t.app.inject({
    method: 'POST',
    url: '/login',
    cookies: { gatehouse_csrf: csrf.value },
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ email, csrf_token: hiddenField(page.body, 'csrf_token') }),
  });
  assert.equal(submitted.statusCode, 200, submitted.body);
  const location = /<a id="continue" href="([^"]+)"/.exec(submitted.body)?.[1]?.replaceAll('&amp;', '&');
  assert.ok(location, `no continue link on the page:\n${submitted.body}`);
  return location;
}

export interface SsoTrip {
  /** Gatehouse's answer to the callback. */
  readonly callback: LightMyRequestResponse;
  /** The browser's cookies afterwards (session cookie on success). */
  readonly cookies: Record<string, string>;
  /** The callback URL the IdP sent the browser to. */
  readonly callbackUrl: URL;
}

let tripCount = 0;
function nextAddress(): string {
  tripCount += 1;
  return `10.77.${(tripCount >> 8) & 255}.${tripCount & 255}`;
}

function absorb(jar: Record<string, string>, response: LightMyRequestResponse): void {
  for (const c of response.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
    const gone =
      c.value === '' || c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now());
    if (gone) delete jar[c.name];
    else jar[c.name] = c.value;
  }
}

/**
 * GETs the start of a sign-in as a fresh browser would (its own address: starts are limited
 * per address), and returns its cookie jar and the IdP URL it was sent to.
 */
async function startSignIn(t: TestApp, startPath: string, cookies: Record<string, string> = {}) {
  const jar: Record<string, string> = { ...cookies };
  const start = await t.app.inject({
    method: 'GET',
    url: startPath,
    cookies: jar,
    remoteAddress: nextAddress(),
  });
  assert.equal(start.statusCode, 303, start.body);
  absorb(jar, start);
  return { jar, idpUrl: String(start.headers.location) };
}

/** The browser's cookies without the SSO flow cookie: another browser finishing the sign-in. */
function withoutFlowCookie(jar: Record<string, string>): Record<string, string> {
  const { gatehouse_sso: _flow, ...rest } = jar;
  return rest;
}

/**
 * GET `startPath` on Gatehouse (a /login submission's redirect or /sso/:id/start), let the
 * IdP play its part, then deliver the IdP's redirect to Gatehouse's callback. `tamper` may
 * rewrite the callback URL (an attacker's edit) before it is delivered.
 */
export async function ssoTrip(
  t: TestApp,
  startPath: string,
  idpAuthorize: (url: string) => Promise<URL>,
  options: { cookies?: Record<string, string>; tamper?: (url: URL) => URL; dropFlowCookie?: boolean } = {},
): Promise<SsoTrip> {
  const { jar, idpUrl } = await startSignIn(t, startPath, options.cookies);
  const callbackUrl = await idpAuthorize(idpUrl);
  const delivered = options.tamper ? options.tamper(new URL(callbackUrl)) : callbackUrl;
  assert.equal(delivered.origin + delivered.pathname, CALLBACK_URL);
  const sent = options.dropFlowCookie ? withoutFlowCookie(jar) : jar;
  const callback = await t.app.inject({
    method: 'GET',
    url: delivered.pathname + delivered.search,
    cookies: sent,
  });
  absorb(jar, callback);
  return { callback, cookies: jar, callbackUrl };
}

/** Audit events of the org with this action, newest first. */
export async function auditEvents(t: TestApp, orgId: string, action: string) {
  const page = await t.services.audit.list(t.services.systemContext('test'), orgId, { action, limit: 100 });
  return page.items;
}

export interface SamlTrip {
  readonly acs: LightMyRequestResponse;
  readonly cookies: Record<string, string>;
  /** What the browser posted to the ACS, to replay it. */
  readonly posted: { path: string; form: Record<string, string> };
}

/** Posts a SAML response form to Gatehouse's ACS as the browser would, with its cookies. */
export function postToAcs(
  t: TestApp,
  acsUrl: string,
  fields: Record<string, string | undefined>,
  cookies: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  const url = new URL(acsUrl);
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) body.set(k, v);
  return t.app.inject({
    method: 'POST',
    url: url.pathname,
    cookies,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: body.toString(),
  });
}

/**
 * GET `startPath` on Gatehouse, let the SAML IdP answer the AuthnRequest (`respond` builds
 * the POST, honest or forged), then post it to the ACS with the browser's cookies.
 */
export async function samlTrip(
  t: TestApp,
  startPath: string,
  respond: (
    redirectUrl: string,
  ) => Promise<{ acsUrl: string; form: { SAMLResponse: string; RelayState?: string } }>,
  options: { cookies?: Record<string, string>; dropFlowCookie?: boolean } = {},
): Promise<SamlTrip> {
  const { jar, idpUrl } = await startSignIn(t, startPath, options.cookies);
  const post = await respond(idpUrl);
  const sent = options.dropFlowCookie ? withoutFlowCookie(jar) : jar;
  const form = {
    SAMLResponse: post.form.SAMLResponse,
    ...(post.form.RelayState ? { RelayState: post.form.RelayState } : {}),
  };
  const acs = await postToAcs(t, post.acsUrl, form, sent);
  absorb(jar, acs);
  return { acs, cookies: jar, posted: { path: post.acsUrl, form } };
}

/** Creates a SAML connection from the IdP's metadata URL and claims `domain` for it (operator-verified). */
export async function setUpSamlConnection(
  t: TestApp,
  admin: Browser,
  org: string,
  input: {
    metadataUrl: string;
    domain: string;
    rules?: { value: string; role: 'admin' | 'user' | 'viewer' }[];
    extra?: Record<string, unknown>;
  },
): Promise<{ id: string; acs_url: string; sp_entity_id: string }> {
  const created = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${org}/sso/connections`,
    payload: {
      type: 'saml',
      name: `SAML ${input.domain}`,
      metadata_url: input.metadataUrl,
      trust_email: true,
      ...(input.extra ?? {}),
    },
  });
  assert.equal(created.statusCode, 201, created.body);
  const connection = created.json() as { id: string; acs_url: string; sp_entity_id: string };
  await routeDomain(t, admin, org, connection.id, input.domain, input.rules);
  return connection;
}
