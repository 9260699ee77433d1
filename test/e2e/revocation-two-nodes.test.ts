// Deactivated credentials fail at once on every node (SPEC §4): two Gatehouse servers on one
// PostgreSQL database, each with its own verified-key and session caches and LISTEN
// connection. A key revoked, or its owner demoted or suspended, and a session revoked,
// through one node must be refused by the other within a second, although the other was
// answering them from its cache.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
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
const HITS = 'gatehouse_api_key_cache_hits_total';
const LOOKUPS = 'gatehouse_api_key_store_lookups_total';
const ADMIN_EMAIL = 'owner@acme.example';

interface CheckAnswer {
  readonly status: number;
  readonly code: string | undefined;
  readonly role: string | null;
}

async function check(node: RunningServer, token: string, query = ''): Promise<CheckAnswer> {
  const response = await fetch(`${node.url}/v1/authz/check${query}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code, role: response.headers.get('x-gatehouse-role') };
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
async function warmCache(node: RunningServer, token: string, query = ''): Promise<void> {
  const until = Date.now() + CACHE_WARM_UP_MS;
  for (;;) {
    const { hits } = await keyCacheCounters(node);
    const answer = await check(node, token, query);
    assert.equal(answer.status, 200, `warm-up answered ${answer.status} ${answer.code}`);
    if ((await keyCacheCounters(node)).hits > hits) break;
    if (Date.now() > until) assert.fail(`${node.url} did not answer the key from its cache within 10 s`);
    await sleep(POLL_INTERVAL_MS * 5);
  }
  const before = await keyCacheCounters(node);
  for (let i = 0; i < CACHED_REQUESTS; i++) assert.equal((await check(node, token, query)).status, 200);
  const after = await keyCacheCounters(node);
  assert.equal(after.hits - before.hits, CACHED_REQUESTS, 'every warm request was a cache hit');
  assert.equal(after.lookups, before.lookups, 'no warm request looked the key up in the database');
}

/** Polls `node` until it stops accepting the key; the delay is counted from `changedAt`. */
async function awaitRefusal(
  node: RunningServer,
  token: string,
  query: string,
  changedAt: number,
): Promise<{ answer: CheckAnswer; delayMs: number }> {
  for (;;) {
    const answer = await check(node, token, query);
    const delayMs = performance.now() - changedAt;
    if (answer.status !== 200 || delayMs > POLL_GIVE_UP_MS) return { answer, delayMs };
    await sleep(POLL_INTERVAL_MS);
  }
}

function reportDelay(t: TestContext, what: string, delayMs: number): void {
  t.diagnostic(`node B refused the key ${delayMs.toFixed(1)} ms after the ${what} on node A answered`);
  assert.ok(
    delayMs <= PROPAGATION_DEADLINE_MS,
    `node B refused the key only after ${delayMs.toFixed(1)} ms (limit ${PROPAGATION_DEADLINE_MS} ms)`,
  );
}

const hasPostgres = backendKinds().includes('postgres');

describe('API key deactivation across two nodes [postgres]', {
  skip: hasPostgres ? false : 'needs PostgreSQL (GATEHOUSE_TEST_DATABASE_URL)',
  timeout: 120_000,
}, () => {
  let database: TestDatabase | undefined;
  let nodeA: RunningServer;
  let nodeB: RunningServer;
  let admin: HttpSession;

  before(async () => {
    database = await createTestDatabase('postgres');
    const secretKey = generateMasterKey();
    const seeded = await runGatehouse(['admin', 'create', '--email', ADMIN_EMAIL, '--org', 'acme'], {
      env: { GATEHOUSE_DATABASE_URL: database.url, GATEHOUSE_SECRET_KEY: secretKey },
      stdin: `${TEST_PASSWORD}\n`,
    });
    assert.equal(seeded.code, 0, seeded.stderr);
    const env = {
      GATEHOUSE_DATABASE_URL: database.url,
      GATEHOUSE_SECRET_KEY: secretKey,
      GATEHOUSE_PORT: '0',
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PUBLIC_URL: 'http://127.0.0.1:8080',
      GATEHOUSE_LOG_LEVEL: 'silent',
    };
    nodeA = await startServer(env);
    nodeB = await startServer(env);
    admin = await signInOverHttp(nodeA.url, ADMIN_EMAIL);
  });

  after(async () => {
    await Promise.allSettled([nodeA?.stop(), nodeB?.stop()]);
    await database?.drop();
  });

  /** A member of acme only, signed in on node A, with a key of their own made there. */
  async function memberWithKey(email: string, role: string): Promise<{ userId: string; token: string }> {
    const added = await callV1<{ id: string }>(nodeA.url, { session: admin }, 'POST', '/orgs/acme/members', {
      email,
      name: email.split('@')[0],
      role,
      password: TEST_PASSWORD,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const session = await signInOverHttp(nodeA.url, email);
    const key = await callV1<{ token: string }>(nodeA.url, { session }, 'POST', '/orgs/acme/api-keys', {
      name: `${email} laptop`,
    });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    return { userId: added.body.id, token: key.body.token };
  }

  it('refuses a revoked key on another node within 1 s, although that node answered it from its cache', async (t) => {
    const created = await callV1<{ id: string; token: string }>(
      nodeA.url,
      { session: admin },
      'POST',
      '/orgs/acme/api-keys',
      { name: 'deploy pipeline' },
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, token } = created.body;
    await warmCache(nodeA, token);
    await warmCache(nodeB, token);

    const revoked = await callV1(nodeA.url, { session: admin }, 'DELETE', `/orgs/acme/api-keys/${id}`);
    const revokedAt = performance.now();
    assert.equal(revoked.status, 204);

    const { answer, delayMs } = await awaitRefusal(nodeB, token, '', revokedAt);
    assert.equal(answer.status, 401);
    assert.equal(answer.code, 'api_key_revoked');
    reportDelay(t, 'revoke', delayMs);
    const onA = await check(nodeA, token);
    assert.deepEqual([onA.status, onA.code], [401, 'api_key_revoked'], 'the revoking node refuses it too');
  });

  it("demotes a key on another node within 1 s when its owner's role is lowered", async (t) => {
    const owner = await memberWithKey('dana@acme.example', 'admin');
    const query = '?permission=members:write';
    await warmCache(nodeB, owner.token, query);

    const demoted = await callV1(
      nodeA.url,
      { session: admin },
      'PATCH',
      `/orgs/acme/members/${owner.userId}`,
      {
        role: 'viewer',
      },
    );
    const demotedAt = performance.now();
    assert.equal(demoted.status, 200, JSON.stringify(demoted.body));

    const { answer, delayMs } = await awaitRefusal(nodeB, owner.token, query, demotedAt);
    assert.equal(answer.status, 403, `answered ${answer.status} ${answer.code}`);
    reportDelay(t, 'role change', delayMs);
    // Demoted, not revoked: the key still works with the owner's new role.
    const plain = await check(nodeB, owner.token);
    assert.deepEqual([plain.status, plain.role], [200, 'viewer']);
  });

  it('refuses a key on another node within 1 s when its owner is suspended', async (t) => {
    const owner = await memberWithKey('sam@acme.example', 'user');
    await warmCache(nodeB, owner.token);

    const suspended = await callV1(
      nodeA.url,
      { session: admin },
      'PATCH',
      `/orgs/acme/members/${owner.userId}`,
      {
        status: 'suspended',
      },
    );
    const suspendedAt = performance.now();
    assert.equal(suspended.status, 200, JSON.stringify(suspended.body));

    const { answer, delayMs } = await awaitRefusal(nodeB, owner.token, '', suspendedAt);
    assert.equal(answer.status, 401);
    assert.equal(answer.code, 'api_key_owner_inactive');
    reportDelay(t, 'suspension', delayMs);
  });

  it('ends a session on another node within 1 s when it is revoked on the first', async (t) => {
    const added = await callV1(nodeA.url, { session: admin }, 'POST', '/orgs/acme/members', {
      email: 'lee@acme.example',
      name: 'lee',
      role: 'user',
      password: TEST_PASSWORD,
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const session = await signInOverHttp(nodeA.url, 'lee@acme.example');
    const viaCookie = async (node: RunningServer) =>
      (
        await fetch(`${node.url}/v1/authz/check`, {
          headers: { cookie: session.cookie },
          signal: AbortSignal.timeout(5000),
        })
      ).status;
    // Node B verifies the cookie once, then answers it from its session cache.
    for (let i = 0; i < 3; i++) assert.equal(await viaCookie(nodeB), 200);
    const revoked = await callV1(
      nodeA.url,
      { session: admin },
      'DELETE',
      `/orgs/acme/members/${session.userId}/sessions`,
    );
    const revokedAt = performance.now();
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    let delayMs = 0;
    for (;;) {
      const status = await viaCookie(nodeB);
      delayMs = performance.now() - revokedAt;
      if (status !== 200 || delayMs > POLL_GIVE_UP_MS) {
        assert.equal(status, 401);
        break;
      }
      await sleep(POLL_INTERVAL_MS);
    }
    t.diagnostic(
      `node B refused the session ${delayMs.toFixed(1)} ms after the revocation on node A answered`,
    );
    assert.ok(
      delayMs <= PROPAGATION_DEADLINE_MS,
      `node B refused the session only after ${delayMs.toFixed(1)} ms`,
    );
  });
});
