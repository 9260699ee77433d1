import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { type DbHandle, openDb } from '../../src/db/index.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

// PostgreSQL only: a connection the pool has handed out (to a transaction, or to a query in
// flight) dies under it. backendKinds() fails under CI when the PostgreSQL tier is missing.
const hasPostgres = backendKinds().includes('postgres');

describe('PostgreSQL connections lost while checked out [postgres]', {
  skip: hasPostgres ? false : 'GATEHOUSE_TEST_DATABASE_URL is not set',
}, () => {
  let testDb: TestDatabase;
  let handle: DbHandle;
  let admin: pg.Client;
  const uncaught: Error[] = [];
  const onUncaught = (error: Error) => uncaught.push(error);

  before(async () => {
    testDb = await createTestDatabase('postgres');
    handle = openDb(testDb.config, silentLogger);
    await handle.migrateToLatest();
    admin = new pg.Client({ connectionString: process.env.GATEHOUSE_TEST_DATABASE_URL });
    await admin.connect();
    process.on('uncaughtException', onUncaught);
  });
  after(async () => {
    process.off('uncaughtException', onUncaught);
    await admin?.end();
    await handle?.close();
    await testDb?.drop();
  });

  const terminate = (pid: number) => admin.query('select pg_terminate_backend($1)', [pid]);
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('fails the transaction whose idle connection was killed, and the next query runs', async () => {
    await assert.rejects(
      handle.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await terminate(rows[0]!.pid);
        // The client learns of the loss between queries, while no query listens for it.
        await settle();
        await sql`select 1`.execute(trx);
      }),
    );
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(handle.db);
    assert.equal(rows[0]!.one, 1);
    assert.deepEqual(
      uncaught.map((e) => e.message),
      [],
    );
  });

  it('fails a query whose connection is killed while it runs, and the next query runs', async () => {
    const running = sql`select pg_sleep(5)`.execute(handle.db);
    // Settled at once so its failure, which can come while the kill is awaited, is observed.
    const outcome = running.then(
      () => 'finished',
      (error: Error) => error.message,
    );
    let pid: number | undefined;
    for (let i = 0; i < 50 && pid === undefined; i++) {
      const { rows } = await admin.query<{ pid: number }>(
        "select pid from pg_stat_activity where datname = $1 and query like '%pg_sleep(5)%' and pid <> pg_backend_pid()",
        [new URL(testDb.url).pathname.slice(1)],
      );
      pid = rows[0]?.pid;
      if (pid === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(pid, 'the sleeping query is visible');
    await terminate(pid);
    assert.match(await outcome, /terminat/);
    await settle();
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(handle.db);
    assert.equal(rows[0]!.one, 1);
    assert.deepEqual(
      uncaught.map((e) => e.message),
      [],
    );
  });
});
