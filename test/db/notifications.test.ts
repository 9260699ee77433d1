import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createManualClock } from '../../src/core/clock.ts';
import { type Ctx, type DbHandle, openDb } from '../../src/db/index.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

function ctxOf(handle: DbHandle): Ctx {
  return { db: handle.db, clock: createManualClock(), log: silentLogger, requestId: 'test' };
}

function nextMessage(handle: DbHandle, channel: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(undefined);
    }, timeoutMs);
    const stop = handle.notifications.subscribe(channel, (payload) => {
      clearTimeout(timer);
      stop();
      resolve(payload);
    });
  });
}

const waitForListener = () => new Promise((r) => setTimeout(r, 300));

for (const kind of backendKinds()) {
  describe(`cross-node notifications [${kind}]`, () => {
    let testDb: TestDatabase;
    let nodeA: DbHandle;
    let nodeB: DbHandle;
    before(async () => {
      testDb = await createTestDatabase(kind);
      nodeA = openDb(testDb.config, silentLogger);
      await nodeA.migrateToLatest();
      // On SQLite there is one node: both names point at the same handle.
      nodeB = kind === 'postgres' ? openDb(testDb.config, silentLogger) : nodeA;
    });
    after(async () => {
      await nodeA.close();
      if (nodeB !== nodeA) await nodeB.close();
      await testDb.drop();
    });

    it('delivers a notification published in a committed transaction to the other node', async () => {
      const received = nextMessage(nodeB, 'cache_test', 3000);
      await waitForListener();
      await nodeA.db.transaction().execute(async (trx) => {
        await nodeA.notifications.publish({ ...ctxOf(nodeA), db: trx }, 'cache_test', 'key-1');
      });
      assert.equal(await received, 'key-1');
    });

    if (kind === 'postgres') {
      it('drops a notification whose transaction rolls back', async () => {
        const received = nextMessage(nodeB, 'cache_rollback', 700);
        await waitForListener();
        await assert.rejects(
          nodeA.db.transaction().execute(async (trx) => {
            await nodeA.notifications.publish({ ...ctxOf(nodeA), db: trx }, 'cache_rollback', 'never');
            throw new Error('abort');
          }),
          /abort/,
        );
        assert.equal(await received, undefined);
      });

      it('keeps listening after the listener connection is killed', async () => {
        const stop = nodeB.notifications.subscribe('cache_reconnect', () => {});
        await waitForListener();
        const dbName = new URL(testDb.url).pathname.slice(1);
        await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and query ilike 'listen%'`.execute(
          nodeA.db,
        );
        let delivered: string | undefined;
        const deadline = Date.now() + 5000;
        while (!delivered && Date.now() < deadline) {
          const received = nextMessage(nodeB, 'cache_reconnect', 400);
          await nodeA.notifications.publish(ctxOf(nodeA), 'cache_reconnect', 'after-reconnect');
          delivered = await received;
        }
        stop();
        assert.equal(delivered, 'after-reconnect');
      });
    }

    it('refuses a channel name that could break out of LISTEN', () => {
      assert.throws(
        () => nodeA.notifications.subscribe('bad"; drop table users; --', () => {}),
        /invalid notification channel/,
      );
    });
  });
}
