// Deprovisioning over SCIM reaches every node within a second (SPEC §5): two Gatehouse
// servers on one PostgreSQL database, each with its own verified-key, session and
// access-token caches and LISTEN connection. An IdP that sets `active: false` through one
// node must see the person's browser session, API key and OAuth access token refused by
// the other within a second, although the other was answering all three from its caches.
// Reactivation gives back the org, not the revoked credentials, and the audit log names the
// SCIM token as the actor of every revocation.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { TEST_PASSWORD } from '../helpers/app.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { callV1, type HttpSession, scrapeMetric, signInOverHttp } from '../helpers/http-client.ts';
import { runGatehouse } from '../helpers/process.ts';

const PROPAGATION_DEADLINE_MS = 1000;
const POLL_INTERVAL_MS = 20;
/** How long to keep polling past the deadline, so a failure says how late the refusal came. */
const POLL_GIVE_UP_MS = 3000;
const CACHE_WARM_UP_MS = 10_000;
const CACHED_REQUESTS = 5;
const REQUEST_TIMEOUT_MS = 5000;
const HITS = 'gatehouse_api_key_cache_hits_total';
const LOOKUPS = 'gatehouse_api_key_store_lookups_total';
const ORG = 'acme';
const ADMIN_EMAIL = 'owner@acme.example';
const MEMBER_EMAIL = 'pat@acme.example';
const PUBLIC_URL = 'http://127.0.0.1:8080';
/** Tokens for /v1 and forward auth are audience-bound to this resource (RFC 8707). */
const API_RESOURCE = `${PUBLIC_URL}/v1`;
const REDIRECT_URI = 'http://127.0.0.1:33418/callback';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type CredentialKind = 'session' | 'API key' | 'access token';

interface Credential {
  readonly kind: CredentialKind;
  /** The header that carries it: the session cookie, or `Authorization: Bearer`. */
  readonly headers: Readonly<Record<string, string>>;
}

interface CheckAnswer {
  readonly status: number;
  readonly code: string | undefined;
}

/** Forward auth (`GET /v1/authz/check`) with one credential, as a reverse proxy asks it. */
async function check(node: RunningServer, credential: Credential, query = ''): Promise<CheckAnswer> {
  const response = await fetch(`${node.url}/v1/authz/check${query}`, {
    headers: credential.headers,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const body = (text === '' ? {} : JSON.parse(text)) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

async function keyCacheCounters(node: RunningServer): Promise<{ hits: number; lookups: number }> {
  const [hits, lookups] = await Promise.all([scrapeMetric(node.url, HITS), scrapeMetric(node.url, LOOKUPS)]);
  return { hits, lookups };
}

/**
 * Asks `node` about the key until it answers from its cache (a node caches only while its
 * notification listener is live, which takes a moment after start), then proves that the
 * next requests are all cache hits and none reaches the database.
 */
async function warmKeyCache(node: RunningServer, key: Credential): Promise<void> {
  const until = Date.now() + CACHE_WARM_UP_MS;
  for (;;) {
    const { hits } = await keyCacheCounters(node);
    const answer = await check(node, key);
    assert.equal(answer.status, 200, `warm-up answered ${answer.status} ${answer.code}`);
    if ((await keyCacheCounters(node)).hits > hits) break;
    if (Date.now() > until) assert.fail(`${node.url} did not answer the key from its cache within 10 s`);
    await sleep(POLL_INTERVAL_MS * 5);
  }
  const before = await keyCacheCounters(node);
  for (let i = 0; i < CACHED_REQUESTS; i++) assert.equal((await check(node, key)).status, 200);
  const after = await keyCacheCounters(node);
  assert.equal(after.hits - before.hits, CACHED_REQUESTS, 'every warm request was a cache hit');
  assert.equal(after.lookups, before.lookups, 'no warm request looked the key up in the database');
}

/**
 * Sessions and access tokens have no cache counters: `node` verifies them on the first
 * request and answers the rest from its caches, which trust their entries only while the
 * node's one notification listener is live — proven just before by the key's cache hits.
 */
async function warmUncounted(node: RunningServer, credential: Credential): Promise<void> {
  for (let i = 0; i < CACHED_REQUESTS; i++) {
    const answer = await check(node, credential);
    assert.equal(answer.status, 200, `${credential.kind} warm-up answered ${answer.status} ${answer.code}`);
  }
}

interface Refusal {
  readonly kind: CredentialKind;
  readonly answer: CheckAnswer;
  readonly delayMs: number;
}

/** Polls `node` until it stops accepting the credential; the delay is counted from `changedAt`. */
async function awaitRefusal(
  node: RunningServer,
  credential: Credential,
  changedAt: number,
): Promise<Refusal> {
  for (;;) {
    const answer = await check(node, credential);
    const delayMs = performance.now() - changedAt;
    if (answer.status !== 200 || delayMs > POLL_GIVE_UP_MS) return { kind: credential.kind, answer, delayMs };
    await sleep(POLL_INTERVAL_MS);
  }
}

// A browser's cookies for one host, as http-client.ts keeps them: one value per name.
type CookieJar = Map<string, string>;

function jarOf(cookieHeader: string): CookieJar {
  const jar: CookieJar = new Map();
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return jar;
}

function absorbCookies(jar: CookieJar, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]!;
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const value = pair.slice(eq + 1).trim();
    if (value === '' || /max-age=0/i.test(line)) jar.delete(pair.slice(0, eq).trim());
    else jar.set(pair.slice(0, eq).trim(), value);
  }
}

const cookieHeader = (jar: CookieJar) => [...jar].map(([n, v]) => `${n}=${v}`).join('; ');

/**
 * An access token for the signed-in user, the way an MCP client or the CLI gets one from
 * `node`: a public client registered dynamically (RFC 7591), the browser sent to
 * /oauth/authorize with a PKCE S256 challenge and the /v1 resource, through Gatehouse's
 * continue and consent pages to the loopback redirect, and the code exchanged with its
 * verifier.
 */
async function authorizationCodeToken(
  node: RunningServer,
  user: HttpSession,
  scope: string,
): Promise<string> {
  const signal = () => AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const registered = await fetch(`${node.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Deprovisioning probe',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
    signal: signal(),
  });
  const client = (await registered.json()) as { client_id: string };
  assert.equal(registered.status, 201, JSON.stringify(client));
  const verifier = randomBytes(32).toString('base64url');
  const params = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope,
    state: 'st4te',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: API_RESOURCE,
  });
  const jar = jarOf(user.cookie);
  let location = new URL(`/oauth/authorize?${params}`, node.url);
  let callback: URL | undefined;
  for (let hop = 0; hop < 12 && callback === undefined; hop++) {
    const response = await fetch(location, {
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar) },
      signal: signal(),
    });
    absorbCookies(jar, response);
    const body = await response.text();
    if (response.status === 302 || response.status === 303) {
      location = new URL(response.headers.get('location')!, location);
      if (location.origin !== node.url) callback = location;
      continue;
    }
    assert.equal(
      response.status,
      200,
      `${location.pathname} answered ${response.status}: ${body.slice(0, 300)}`,
    );
    const refresh = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(body);
    if (refresh) {
      location = new URL(refresh[1]!.replaceAll('&amp;', '&'), location);
      if (location.origin !== node.url) callback = location;
      continue;
    }
    assert.match(body, /Authorize /, `${location.pathname} is the consent page`);
    const csrf = /name="csrf_token" value="([^"]*)"/.exec(body)?.[1];
    assert.ok(csrf, 'the consent page carries a csrf_token');
    const decided = await fetch(new URL(location.pathname, node.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
      body: new URLSearchParams({ csrf_token: csrf, decision: 'approve' }).toString(),
      signal: signal(),
    });
    absorbCookies(jar, decided);
    assert.equal(decided.status, 303, await decided.text());
    location = new URL(decided.headers.get('location')!, location);
    if (location.origin !== node.url) callback = location;
  }
  assert.ok(callback, 'the authorization reached the client');
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  const code = callback.searchParams.get('code');
  assert.ok(code, callback.href);
  const exchanged = await fetch(`${node.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: client.client_id,
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      resource: API_RESOURCE,
    }).toString(),
    signal: signal(),
  });
  const tokens = (await exchanged.json()) as { access_token?: string };
  assert.equal(exchanged.status, 200, JSON.stringify(tokens));
  assert.ok(tokens.access_token);
  return tokens.access_token;
}

/** One SCIM request, sent as Okta sends it: `application/scim+json` with the SCIM token. */
async function scim<T = unknown>(
  node: RunningServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${node.url}/scim/v2${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

const setActive = (active: boolean) => ({
  schemas: [PATCH_OP],
  Operations: [{ op: 'replace', value: { active } }],
});

interface AuditEvent {
  readonly action: string;
  readonly actor: { readonly kind: string; readonly id: string | null };
  readonly target: { readonly kind: string; readonly id: string } | null;
}

const hasPostgres = backendKinds().includes('postgres');

describe('SCIM deprovisioning across two nodes [postgres]', {
  skip: hasPostgres ? false : 'needs PostgreSQL (GATEHOUSE_TEST_DATABASE_URL)',
  timeout: 120_000,
}, () => {
  let database: TestDatabase | undefined;
  let nodeA: RunningServer;
  let nodeB: RunningServer;
  let admin: HttpSession;
  let scimToken: { id: string; token: string };
  let memberId: string;
  let keyId: string;
  /** The member's credentials made on node A, refused once the IdP deprovisions them. */
  let credentials: Credential[] = [];

  before(async () => {
    database = await createTestDatabase('postgres');
    const secretKey = generateMasterKey();
    const seeded = await runGatehouse(['admin', 'create', '--email', ADMIN_EMAIL, '--org', ORG], {
      env: { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_SECRET_KEY: secretKey },
      stdin: `${TEST_PASSWORD}\n`,
    });
    assert.equal(seeded.code, 0, seeded.stderr);
    const env = {
      GATEHOUSE_DATABASE_URL: database.url,
      GATEHOUSE_SECRET_KEY: secretKey,
      GATEHOUSE_PORT: '0',
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PUBLIC_URL: PUBLIC_URL,
      GATEHOUSE_LOG_LEVEL: 'silent',
    };
    nodeA = await startServer(env);
    nodeB = await startServer(env);
    admin = await signInOverHttp(nodeA.url, ADMIN_EMAIL);
    const made = await callV1<{ id: string; token: string }>(
      nodeA.url,
      { session: admin },
      'POST',
      `/orgs/${ORG}/scim-tokens`,
      { name: 'Okta' },
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    scimToken = made.body;
  });

  after(async () => {
    await Promise.allSettled([nodeA?.stop(), nodeB?.stop()]);
    await database?.drop();
  });

  async function auditEvents(): Promise<AuditEvent[]> {
    const answer = await callV1<{ data: AuditEvent[] }>(
      nodeA.url,
      { session: admin },
      'GET',
      `/orgs/${ORG}/audit?limit=200`,
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.data;
  }

  it("refuses the deprovisioned user's session, API key and access token on another node within 1 s", async (t) => {
    // The admin added Pat with a password before the IdP was connected; the IdP's first push
    // links that member rather than making a second, password-less account.
    const added = await callV1<{ id: string }>(
      nodeA.url,
      { session: admin },
      'POST',
      `/orgs/${ORG}/members`,
      {
        email: MEMBER_EMAIL,
        name: 'pat',
        role: 'user',
        password: TEST_PASSWORD,
      },
    );
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const provisioned = await scim<{ id: string; active: boolean }>(
      nodeA,
      scimToken.token,
      'POST',
      '/Users',
      {
        schemas: [USER_SCHEMA],
        userName: MEMBER_EMAIL,
        name: { givenName: 'Pat', familyName: 'Lee' },
        emails: [{ primary: true, value: MEMBER_EMAIL, type: 'work' }],
        active: true,
      },
    );
    assert.equal(provisioned.status, 201, JSON.stringify(provisioned.body));
    assert.equal(provisioned.body.id, added.body.id, 'the IdP linked the existing member');
    memberId = provisioned.body.id;

    // Everything Pat holds is made on node A.
    const session = await signInOverHttp(nodeA.url, MEMBER_EMAIL);
    const key = await callV1<{ id: string; token: string }>(
      nodeA.url,
      { session },
      'POST',
      `/orgs/${ORG}/api-keys`,
      {
        name: 'pat laptop',
      },
    );
    assert.equal(key.status, 201, JSON.stringify(key.body));
    keyId = key.body.id;
    const accessToken = await authorizationCodeToken(nodeA, session, 'org:read projects:read');
    const viaSession: Credential = { kind: 'session', headers: { cookie: session.cookie } };
    const viaKey: Credential = { kind: 'API key', headers: { authorization: `Bearer ${key.body.token}` } };
    const viaToken: Credential = {
      kind: 'access token',
      headers: { authorization: `Bearer ${accessToken}` },
    };
    credentials = [viaSession, viaKey, viaToken];

    // Node B answers all three from its caches. The key first: its counters prove node B's
    // listener is live, which is when the session and token caches keep entries too.
    await warmKeyCache(nodeB, viaKey);
    await warmUncounted(nodeB, viaSession);
    await warmUncounted(nodeB, viaToken);

    const off = await scim<{ active: boolean }>(
      nodeA,
      scimToken.token,
      'PATCH',
      `/Users/${memberId}`,
      setActive(false),
    );
    const changedAt = performance.now();
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.active, false);

    // Polled side by side, so each delay is its own and counted from the same moment.
    const refusals = await Promise.all(
      credentials.map((credential) => awaitRefusal(nodeB, credential, changedAt)),
    );
    for (const { kind, answer, delayMs } of refusals)
      t.diagnostic(
        `node B answered the ${kind} ${answer.status} ${answer.code ?? ''} ${delayMs.toFixed(1)} ms after the deprovisioning on node A answered`,
      );
    const late = refusals.filter((r) => r.answer.status === 200 || r.delayMs > PROPAGATION_DEADLINE_MS);
    assert.deepEqual(
      late.map(
        (r) => `${r.kind}: ${r.answer.status} ${r.answer.code ?? ''} after ${r.delayMs.toFixed(1)} ms`,
      ),
      [],
      `node B must refuse every credential within ${PROPAGATION_DEADLINE_MS} ms`,
    );
    const answered = Object.fromEntries(refusals.map((r) => [r.kind, [r.answer.status, r.answer.code]]));
    assert.deepEqual(answered, {
      session: [401, 'session_invalid'],
      'API key': [401, 'api_key_revoked'],
      'access token': [401, 'access_token_revoked'],
    });
    for (const credential of credentials) {
      const onA = await check(nodeA, credential);
      assert.equal(onA.status, 401, `node A refuses the ${credential.kind} too (${onA.code})`);
    }
  });

  it('reactivation gives back the org on every node, not the revoked session, key or token', async () => {
    assert.ok(memberId && credentials.length === 3, 'needs the deprovisioned member of the test before');
    // While deprovisioned, a new sign-in still works (the account is Gatehouse's, not the
    // org's), but node B does not let it into the org, nor say that the org exists.
    const meanwhile = await signInOverHttp(nodeB.url, MEMBER_EMAIL);
    const closed = await callV1<{ error: { code: string } }>(
      nodeB.url,
      { session: meanwhile },
      'GET',
      `/orgs/${ORG}`,
    );
    assert.deepEqual([closed.status, closed.body.error.code], [404, 'org_not_found']);

    const on = await scim<{ active: boolean }>(
      nodeA,
      scimToken.token,
      'PATCH',
      `/Users/${memberId}`,
      setActive(true),
    );
    const changedAt = performance.now();
    assert.equal(on.status, 200, JSON.stringify(on.body));
    assert.equal(on.body.active, true);

    const fresh = await signInOverHttp(nodeB.url, MEMBER_EMAIL);
    let status = 0;
    let delayMs = 0;
    for (;;) {
      status = (await callV1(nodeB.url, { session: fresh }, 'GET', `/orgs/${ORG}`)).status;
      delayMs = performance.now() - changedAt;
      if (status === 200 || delayMs > POLL_GIVE_UP_MS) break;
      await sleep(POLL_INTERVAL_MS);
    }
    assert.equal(
      status,
      200,
      `a fresh session on node B got ${status} ${delayMs.toFixed(1)} ms after reactivation`,
    );

    for (const node of [nodeA, nodeB])
      for (const credential of credentials) {
        const answer = await check(node, credential);
        assert.equal(
          answer.status,
          401,
          `the revoked ${credential.kind} stays refused on ${node === nodeA ? 'node A' : 'node B'} (${answer.status} ${answer.code})`,
        );
      }
  });

  it('audits the deprovisioning and every revocation with the SCIM token as the actor', async () => {
    assert.ok(memberId, 'needs the deprovisioned member of the test before');
    const events = await auditEvents();
    for (const action of [
      'scim.user_provisioned',
      'scim.user_deprovisioned',
      'member.suspended',
      'session.revoked',
      'api_key.revoked',
      'oauth_grant.revoked',
      'scim.user_reactivated',
      'member.reactivated',
    ]) {
      // The key's revocation is filed under the key; everything else under Pat.
      const target = action === 'api_key.revoked' ? keyId : memberId;
      const event = events.find((e) => e.action === action && e.target?.id === target);
      assert.ok(event, `${action} audited`);
      assert.deepEqual(
        event.actor,
        { kind: 'scim_token', id: scimToken.id },
        `${action} names the SCIM token`,
      );
    }
  });
});
