// db/hot-query.ts: a one-row lookup below Kysely answers what the database holds, and inside
// a transaction what that transaction sees; a write below Kysely changes what it names and
// says how many rows, and inside a transaction is undone with it; on both backends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createManualClock } from '../../src/core/clock.ts';
import { type Ctx, type DbHandle, hotQuery, hotStatement, openDb } from '../../src/db/index.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';

const orgBySlug = hotQuery<{ id: string; name: string }>(
  'test_org_by_slug',
  (db) => db.selectFrom('orgs').select(['id', 'name']).where('slug', '=', ''),
  ([id, name]) => ({ id: id as string, name: name as string }),
);

/** name, slug */
const renameOrg = hotStatement('test_rename_org', (db) =>
  db.updateTable('orgs').set({ name: '' }).where('slug', '=', ''),
);

const row = (id: string, slug: string) => ({
  id,
  slug,
  name: `${slug} Inc`,
  default_role: 'user',
  session_idle_timeout_ms: 1,
  session_absolute_lifetime_ms: 1,
  sso_required: 0,
  break_glass_user_id: null,
  created_at: 1,
  updated_at: 1,
});

for (const kind of backendKinds()) {
  describe(`hot one-row lookups [${kind}]`, () => {
    let testDb: TestDatabase;
    let handle: DbHandle;
    let ctx: Ctx;
    before(async () => {
      testDb = await createTestDatabase(kind);
      handle = openDb(testDb.config, silentLogger);
      await handle.migrateToLatest();
      ctx = { db: handle.db, clock: createManualClock(), log: silentLogger, requestId: 'test' };
      await handle.db.insertInto('orgs').values(row('org_a', 'alpha')).execute();
    });
    after(async () => {
      await handle.close();
      await testDb.drop();
    });

    it('finds the row the parameters name, and nothing for others, the same on every call', async () => {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await orgBySlug(ctx, ['alpha']), { id: 'org_a', name: 'alpha Inc' });
        assert.equal(await orgBySlug(ctx, ['nobody']), undefined);
      }
    });

    it('answers synchronously on SQLite outside a transaction', () => {
      const answer = orgBySlug(ctx, ['alpha']);
      assert.equal(answer instanceof Promise, kind === 'postgres');
    });

    it('sees inside a transaction what the transaction wrote, and outside only what was committed', async () => {
      await handle.db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('orgs').values(row('org_b', 'beta')).execute();
          assert.deepEqual(await orgBySlug({ ...ctx, db: trx }, ['beta']), { id: 'org_b', name: 'beta Inc' });
          if (kind === 'postgres') assert.equal(await orgBySlug(ctx, ['beta']), undefined);
          throw new Error('roll back');
        })
        .catch((error: Error) => assert.equal(error.message, 'roll back'));
      assert.equal(await orgBySlug(ctx, ['beta']), undefined);
    });

    it('writes below Kysely and answers how many rows changed, synchronously on SQLite', async () => {
      const changed = renameOrg(ctx, ['Alpha Renamed', 'alpha']);
      assert.equal(changed instanceof Promise, kind === 'postgres');
      assert.equal(await changed, 1);
      assert.deepEqual(await orgBySlug(ctx, ['alpha']), { id: 'org_a', name: 'Alpha Renamed' });
      assert.equal(await renameOrg(ctx, ['Nobody', 'nobody']), 0);
    });

    it('writes inside a transaction on that transaction, undone when it rolls back', async () => {
      await handle.db
        .transaction()
        .execute(async (trx) => {
          assert.equal(await renameOrg({ db: trx }, ['Inside', 'alpha']), 1);
          assert.deepEqual(await orgBySlug({ db: trx }, ['alpha']), { id: 'org_a', name: 'Inside' });
          throw new Error('roll back');
        })
        .catch((error: Error) => assert.equal(error.message, 'roll back'));
      assert.deepEqual(await orgBySlug(ctx, ['alpha']), { id: 'org_a', name: 'Alpha Renamed' });
    });
  });
}
