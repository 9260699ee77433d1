import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { systemClock } from '../../src/core/clock.ts';
import { generateMasterKey, parseMasterKey } from '../../src/core/secrets.ts';
import { openDb } from '../../src/db/index.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { createServices } from '../../src/services.ts';
import { TEST_PASSWORD } from '../helpers/app.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

// PostgreSQL only: the outage is made by refusing and killing connections to the test's own
// database. backendKinds() fails under CI when the PostgreSQL tier is missing.
const hasPostgres = backendKinds().includes('postgres');
const RECOVERY_MS = 10_000;
/** Well-formed (43 base64url characters) so the server must look it up in the database. */
const BOGUS_SESSION = `gatehouse_session=${'A'.repeat(43)}`;

interface Probe {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

async function probe(url: string, headers: Record<string, string> = {}): Promise<Probe> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  assert.doesNotMatch(text, /\bat \S+ \(|Error:/, `no internals in ${text.slice(0, 200)}`);
  return {
    status: res.status,
    body: JSON.parse(text) as Record<string, unknown>,
    retryAfter: res.headers.get('retry-after'),
  };
}

async function pollUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) assert.fail(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An instance with a user already, so the server prints no setup link into the test output. */
async function createFirstAdmin(env: Record<string, string>): Promise<void> {
  const config = loadConfig(env);
  const database = openDb(config.database, silentLogger);
  try {
    const services = createServices({
      config,
      database,
      clock: systemClock,
      log: silentLogger,
      masterKey: parseMasterKey(env.GATEHOUSE_SECRET_KEY!),
    });
    await services.bootstrap.createAdmin(services.systemContext('test'), {
      email: 'admin@outage.example',
      password: TEST_PASSWORD,
      orgSlug: 'outage',
    });
  } finally {
    await database.close();
  }
}

describe('PostgreSQL outage [postgres]', {
  skip: hasPostgres ? false : 'GATEHOUSE_TEST_DATABASE_URL is not set',
}, () => {
  let testDatabase: TestDatabase;
  let dbName: string;
  let admin: pg.Client;
  let server: RunningServer | undefined;

  async function allowConnections(allow: boolean): Promise<void> {
    await admin.query(`alter database "${dbName}" allow_connections ${allow ? 'true' : 'false'}`);
  }
  async function terminateConnections(): Promise<number> {
    const result = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [dbName],
    );
    return result.rowCount ?? 0;
  }

  before(async () => {
    testDatabase = await createTestDatabase('postgres');
    dbName = new URL(testDatabase.url).pathname.slice(1);
    admin = new pg.Client({ connectionString: process.env.GATEHOUSE_TEST_DATABASE_URL });
    await admin.connect();
    const env = {
      GATEHOUSE_PORT: '0',
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_SECRET_KEY: generateMasterKey(),
      GATEHOUSE_DATABASE_URL: testDatabase.url,
      GATEHOUSE_DATABASE_POOL_SIZE: '3',
      GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_TEST_LOG ?? 'silent',
    };
    await createFirstAdmin(env);
    server = await startServer(env);
  });

  after(async () => {
    // Whatever happened, the database accepts connections again before it is dropped.
    await allowConnections(true).catch(() => {});
    await server?.stop().catch(() => {});
    await admin?.end().catch(() => {});
    await testDatabase?.drop();
  });

  it('answers 503 while the database is gone, keeps running, and recovers when it returns', async () => {
    const base = server!.url;
    const readyz = () => probe(`${base}/readyz`);
    const me = () => probe(`${base}/v1/me`, { cookie: BOGUS_SESSION });

    // Before: ready, and the bogus session is looked up and refused.
    assert.equal((await readyz()).status, 200);
    const refused = await me();
    assert.equal(refused.status, 401, JSON.stringify(refused.body));

    let outageReadyz: Probe | undefined;
    let outageMe: Probe | undefined;
    try {
      await allowConnections(false);
      // Keep killing whatever the pool holds or reopens while the requests run.
      let killing = true;
      const killer = (async () => {
        while (killing) {
          await terminateConnections();
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      try {
        await terminateConnections();
        for (let i = 0; i < 3; i++) {
          outageReadyz = await readyz();
          outageMe = await me();
        }
        const health = await probe(`${base}/healthz`);
        assert.equal(health.status, 200, 'the process is up through the outage');
      } finally {
        killing = false;
        await killer;
      }
    } finally {
      await allowConnections(true);
    }

    assert.equal(outageReadyz!.status, 503, JSON.stringify(outageReadyz!.body));
    assert.equal(outageReadyz!.body.status, 'database_unavailable');
    assert.equal(outageMe!.status, 503, JSON.stringify(outageMe!.body));
    const error = outageMe!.body.error as { code: string; request_id: string };
    assert.equal(error.code, 'database_unavailable');
    assert.match(error.request_id, /^req_/);
    assert.match(outageMe!.retryAfter ?? '', /^\d+$/, 'a Retry-After header');

    // After: both recover on their own, without a restart.
    await pollUntil('/readyz back to 200', async () => (await readyz()).status === 200, RECOVERY_MS);
    await pollUntil(
      '/v1/me back to a database lookup (401)',
      async () => (await me()).status === 401,
      RECOVERY_MS,
    );
  });
});
