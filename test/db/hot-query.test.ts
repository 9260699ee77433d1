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

/**
 * Each answer says how many lookups shared its statement: the batch's SQL counts its array,
 * the one-row SQL selects no such value (undefined).
 */
const orgBySlugBatched = hotQuery<{ id: string; name: string; sharedWith: unknown }>(
  'test_org_by_slug_batched',
  // Parameters: slug, a created_at the org's must exceed (a bigint: a value that is not one fails the query).
  (db) => db.selectFrom('orgs').select(['id', 'name']).where('slug', '=', '').where('created_at', '>', 0),
  ([id, name, sharedWith]) => ({ id: id as string, name: name as string, sharedWith }),
  {
    name: 'test_orgs_by_slug',
    sql: `select o.id, o.name, (select count(*)::int from unnest($1::text[])), l.position::int
      from unnest($1::text[], $2::bigint[]) with ordinality as l(slug, created_after, position)
      join orgs o on o.slug = l.slug and o.created_at > l.created_after`,
  },
);

/**
 * name, slug. The batch's SQL appends how many writes shared the statement to each new name,
 * so a test sees which way a rename ran; the one-row statement writes the name as given.
 */
const renameOrgBatched = hotStatement(
  'test_rename_org_batched',
  (db) => db.updateTable('orgs').set({ name: '' }).where('slug', '=', ''),
  {
    name: 'test_rename_orgs',
    sql: `with l as (
        select * from unnest($1::text[], $2::text[]) with ordinality as l(name, slug, position)
      ), renamed as (
        update orgs o set name = l.name || ' (' || (select count(*) from l) || ')' from l
        where o.slug = l.slug returning o.slug
      )
      select l.position::int from renamed join l on l.slug = renamed.slug`,
  },
);

for (const kind of backendKinds()) {
  describe(`hot lookups gathered per event-loop turn [${kind}]`, () => {
    let testDb: TestDatabase;
    let handle: DbHandle;
    let ctx: Ctx;
    const slugs = Array.from({ length: 20 }, (_, i) => `org-${i}`);
    before(async () => {
      testDb = await createTestDatabase(kind);
      handle = openDb(testDb.config, silentLogger);
      await handle.migrateToLatest();
      ctx = { db: handle.db, clock: createManualClock(), log: silentLogger, requestId: 'test' };
      await handle.db
        .insertInto('orgs')
        .values(slugs.map((slug, i) => row(`org_${i}`, slug)))
        .execute();
    });
    after(async () => {
      await handle.close();
      await testDb.drop();
    });

    /** Lookup i asks for org-(i mod 25): the slugs past org-19 name no org. */
    const expected = (i: number) =>
      i % 25 < 20 ? { id: `org_${i % 25}`, name: `org-${i % 25} Inc` } : undefined;

    it('answers each lookup of one turn with its own row, 64 to a statement on PostgreSQL', async () => {
      const answers = await Promise.all(
        Array.from({ length: 150 }, (_, i) => orgBySlugBatched(ctx, [`org-${i % 25}`, 0])),
      );
      for (const [i, answer] of answers.entries()) {
        const want = expected(i);
        if (want === undefined) {
          assert.equal(answer, undefined, `lookup ${i}`);
          continue;
        }
        assert.equal(answer?.id, want.id, `lookup ${i}`);
        assert.equal(answer?.name, want.name, `lookup ${i}`);
        // 150 lookups in one turn: two full statements, then the turn's last 22.
        const sharedWith = kind === 'postgres' ? (i < 128 ? 64 : 22) : undefined;
        assert.equal(answer?.sharedWith, sharedWith, `lookup ${i}`);
      }
    });

    it('runs a lookup alone in its turn as the one-row query', async () => {
      const answer = await orgBySlugBatched(ctx, ['org-3', 0]);
      assert.deepEqual(answer, { id: 'org_3', name: 'org-3 Inc', sharedWith: undefined });
    });

    it('gathers lookups of different turns apart', async () => {
      const first = orgBySlugBatched(ctx, ['org-1', 0]);
      const second = orgBySlugBatched(ctx, ['org-2', 0]);
      await new Promise((resolve) => setImmediate(resolve));
      const third = orgBySlugBatched(ctx, ['org-4', 0]);
      const [a, b, c] = await Promise.all([first, second, third]);
      assert.equal(a?.id, 'org_1');
      assert.equal(b?.id, 'org_2');
      assert.equal(c?.id, 'org_4');
      if (kind === 'postgres') {
        assert.equal(a?.sharedWith, 2);
        assert.equal(b?.sharedWith, 2);
        assert.equal(c?.sharedWith, undefined);
      }
    });

    it('fails only the lookup whose parameter the statement cannot take; its turn-mates are answered', async () => {
      const answers = await Promise.allSettled([
        orgBySlugBatched(ctx, ['org-5', 0]),
        orgBySlugBatched(ctx, ['org-6', 'not a number']),
        orgBySlugBatched(ctx, ['org-7', 0]),
      ]);
      const [first, bad, third] = answers;
      assert.equal(first.status === 'fulfilled' && first.value?.id, 'org_5');
      assert.equal(third.status === 'fulfilled' && third.value?.id, 'org_7');
      if (kind === 'postgres') {
        // Answered by the one-row query each, after the shared statement failed.
        assert.equal(first.status === 'fulfilled' && first.value?.sharedWith, undefined);
        assert.equal(bad.status, 'rejected');
        assert.match(String((bad as PromiseRejectedResult).reason), /invalid input syntax for type bigint/);
      } else {
        // SQLite runs each lookup alone and compares an integer with text (never greater).
        assert.equal(bad.status === 'fulfilled' && bad.value, undefined);
      }
    });

    it('writes each of one turn, answering how many rows each changed', async () => {
      const changed = await Promise.all([
        renameOrgBatched(ctx, ['Eight', 'org-8']),
        renameOrgBatched(ctx, ['Nobody', 'no-such-org']),
        renameOrgBatched(ctx, ['Nine', 'org-9']),
      ]);
      assert.deepEqual(changed, [1, 0, 1]);
      const names = await handle.db
        .selectFrom('orgs')
        .select(['slug', 'name'])
        .where('slug', 'in', ['org-8', 'org-9'])
        .orderBy('slug')
        .execute();
      const shared = kind === 'postgres' ? ' (3)' : '';
      assert.deepEqual(names, [
        { slug: 'org-8', name: `Eight${shared}` },
        { slug: 'org-9', name: `Nine${shared}` },
      ]);
      assert.equal(await renameOrgBatched(ctx, ['Alone', 'org-8']), 1);
      assert.deepEqual(await orgBySlug(ctx, ['org-8']), { id: 'org_8', name: 'Alone' });
    });
  });
}
