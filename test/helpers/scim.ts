// SCIM in tests: an org with a SCIM token, requests sent as an IdP sends them (bearer token,
// application/scim+json, the body serialised by the client), and the answers read as RFC 7644
// documents — resources, ListResponses and SCIM errors with their scimType.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { withKey } from './api-keys.ts';
import { asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from './app.ts';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** Where `meta.location` points: the app's GATEHOUSE_PUBLIC_URL plus /scim/v2. */
export const SCIM_BASE = 'http://localhost:8080/scim/v2';

/** A SCIM resource as answered: loose on purpose, each test asserts what it relies on. */
// biome-ignore lint/suspicious/noExplicitAny: SCIM documents are open-ended (RFC 7643 §3.3)
export type ScimDoc = Record<string, any>;

export interface ListBody {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: ScimDoc[];
}

export interface ScimOrg {
  readonly slug: string;
  readonly orgId: string;
  readonly admin: Browser;
  /** The SCIM token's id (`sct_…`) and the secret an IdP is configured with. */
  readonly tokenId: string;
  readonly token: string;
}

/** Makes a SCIM token over /v1 as `admin` of `slug`, as an admin pasting it into the IdP would. */
export async function createScimToken(
  t: TestApp,
  admin: Browser,
  slug: string,
  name = 'IdP',
): Promise<{ id: string; token: string }> {
  const created = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${slug}/scim-tokens`,
    payload: { name },
  });
  assert.equal(created.statusCode, 201, created.body);
  const body = created.json() as { id: string; token: string };
  assert.match(body.token, /^gks_/);
  return body;
}

/** A fresh org with its first admin and a SCIM token for it. */
export async function setUpScimOrg(t: TestApp, slug: string, idpName = 'IdP'): Promise<ScimOrg> {
  const { orgId, admin } = await setUpOrgWithAdmin(t, slug);
  const { id, token } = await createScimToken(t, admin, slug, idpName);
  return { slug, orgId, admin, tokenId: id, token };
}

export interface ScimRequest {
  readonly headers?: Record<string, string>;
  /** A JSON value, serialised here; a string is sent as it is (for malformed bodies). */
  readonly body?: unknown;
}

/** What an IdP's HTTP client does: bearer token, SCIM media type, the body as text. */
export interface ScimClient {
  get(url: string, options?: ScimRequest): Promise<LightMyRequestResponse>;
  post(url: string, body: unknown, options?: ScimRequest): Promise<LightMyRequestResponse>;
  put(url: string, body: unknown, options?: ScimRequest): Promise<LightMyRequestResponse>;
  patch(url: string, body: unknown, options?: ScimRequest): Promise<LightMyRequestResponse>;
  delete(url: string, options?: ScimRequest): Promise<LightMyRequestResponse>;
}

export function scimClient(
  t: TestApp,
  token: string,
  contentType = 'application/scim+json; charset=utf-8',
): ScimClient {
  const send = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, options: ScimRequest) => {
    const hasBody = options.body !== undefined;
    return withKey(t, token, {
      method,
      url: url.startsWith('/') ? url : `/scim/v2/${url}`,
      headers: {
        accept: 'application/scim+json',
        ...(hasBody ? { 'content-type': contentType } : {}),
        ...(options.headers ?? {}),
      },
      ...(hasBody
        ? { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
        : {}),
    });
  };
  return {
    get: (url, options = {}) => send('GET', url, options),
    post: (url, body, options = {}) => send('POST', url, { ...options, body }),
    put: (url, body, options = {}) => send('PUT', url, { ...options, body }),
    patch: (url, body, options = {}) => send('PATCH', url, { ...options, body }),
    delete: (url, options = {}) => send('DELETE', url, options),
  };
}

/** `?filter=…` encoded as Okta's client does it (percent-encoding, spaces as %20). */
export function filterParam(expression: string): string {
  return `filter=${encodeURIComponent(expression)}`;
}

/** A PatchOp request body. */
export function patchOp(...operations: Record<string, unknown>[]): ScimDoc {
  return { schemas: [PATCH_SCHEMA], Operations: operations };
}

/** Asserts a SCIM success answer: status, media type, and returns the body. */
export function assertScim(res: LightMyRequestResponse, status: number): ScimDoc {
  assert.equal(res.statusCode, status, `${res.statusCode} ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/scim\+json/, res.body);
  return res.json() as ScimDoc;
}

/** Asserts a ListResponse (RFC 7644 §3.4.2) and that its counts agree with what it carries. */
export function assertList(res: LightMyRequestResponse): ListBody {
  const body = assertScim(res, 200) as ListBody;
  assert.deepEqual(body.schemas, [LIST_SCHEMA], res.body);
  assert.ok(Array.isArray(body.Resources), `Resources is a list: ${res.body}`);
  assert.equal(body.itemsPerPage, body.Resources.length, res.body);
  return body;
}

/** Asserts a ListResponse that matched nothing, as both IdPs expect before they create. */
export function assertEmptyList(res: LightMyRequestResponse): void {
  const body = assertList(res);
  assert.equal(body.totalResults, 0, res.body);
  assert.deepEqual(body.Resources, [], res.body);
  assert.equal(body.startIndex, 1, res.body);
}

/**
 * Asserts an answer in the SCIM error schema (RFC 7644 §3.12): the status, the same status as
 * a string in the body, and the scimType — `null` asserting that none is sent.
 */
export function assertScimError(
  res: LightMyRequestResponse,
  status: number,
  scimType?: string | null,
): ScimDoc {
  assert.equal(res.statusCode, status, `${res.statusCode} ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/scim\+json/, res.body);
  const body = res.json() as ScimDoc;
  assert.deepEqual(body.schemas, [ERROR_SCHEMA], res.body);
  assert.equal(body.status, String(status), res.body);
  assert.equal(typeof body.detail, 'string', res.body);
  if (scimType === null) assert.equal(body.scimType, undefined, res.body);
  else if (scimType !== undefined) assert.equal(body.scimType, scimType, res.body);
  return body;
}

/** Asserts a 401 with the challenge a SCIM client reads (RFC 6750 §3). */
export function assertUnauthorized(res: LightMyRequestResponse): void {
  assertScimError(res, 401);
  assert.equal(res.headers['www-authenticate'], 'Bearer realm="gatehouse-scim"', res.body);
}

/** The ETag the answer carries, checked to be the weak version tag meta.version repeats. */
export function etagOf(res: LightMyRequestResponse): string {
  const etag = String(res.headers.etag ?? '');
  assert.match(etag, /^W\/"\d+"$/, `ETag header: ${etag}`);
  return etag;
}

/** The member ids a Group document lists, sorted. */
export function memberIds(group: ScimDoc): string[] {
  assert.ok(Array.isArray(group.members), `members listed: ${JSON.stringify(group)}`);
  return (group.members as { value: string }[]).map((m) => m.value).sort();
}

/** A minimal core User, for tests about something other than the body's shape. */
export function plainUser(userName: string, extra: Record<string, unknown> = {}): ScimDoc {
  return {
    schemas: [USER_SCHEMA],
    userName,
    name: { givenName: 'Robin', familyName: 'Park' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    active: true,
    ...extra,
  };
}

/** Provisions `plainUser(userName)` and returns its id. */
export async function provisionUser(
  client: ScimClient,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const created = assertScim(await client.post('Users', plainUser(userName, extra)), 201);
  assert.match(String(created.id), /^usr_/);
  return created.id as string;
}

/** Reads the org membership behind a SCIM User, as an admin sees it over /v1. */
export async function membershipOf(
  t: TestApp,
  org: ScimOrg,
  userId: string,
): Promise<{ email: string; role: string; role_source: string }> {
  const res = await asBrowser(t, org.admin, { method: 'GET', url: `/v1/orgs/${org.slug}/members/${userId}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

/**
 * The last suspension or reactivation of the person's membership in the audit log, with its
 * actor: where deprovisioning shows up for an admin (the /v1 member view shows the account).
 */
export async function lastMembershipChange(
  t: TestApp,
  org: ScimOrg,
  userId: string,
): Promise<{ action: string; actor: { kind: string; id: string | null } } | undefined> {
  const res = await asBrowser(t, org.admin, {
    method: 'GET',
    url: `/v1/orgs/${org.slug}/audit?target_id=${userId}&limit=200`,
  });
  assert.equal(res.statusCode, 200, res.body);
  const events = (res.json() as { data: { action: string; actor: { kind: string; id: string | null } }[] })
    .data;
  // Newest first.
  const last = events.find((e) => e.action === 'member.suspended' || e.action === 'member.reactivated');
  return last && { action: last.action, actor: last.actor };
}
