// The key lookup behind every uncached bearer key runs below Kysely and decodes its row from
// the driver's array of values (apikeys/store.ts, db/hot-query.ts). Decoding goes by position,
// so this compares it, on both backends, with the same query run through Kysely, which names
// every column: a column added, dropped or moved in one place but not the other fails here.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { authLookupQuery, selectKeyForAuth } from '../../src/apikeys/store.ts';
import { createKey } from '../helpers/api-keys.ts';
import { asBrowser, setUpOrgWithAdmin } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

const keyIdOf = (token: string) => token.split('_')[1] as string;

describeEachBackend('API key lookup rows', (app) => {
  it('decodes every column of a user key and a service-account key as Kysely names them', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'lookup');
    const userKey = await createKey(t, admin, 'lookup', {
      name: 'user key',
      read_only: true,
      expires_at: new Date(t.clock.now() + 86_400_000).toISOString(),
    });
    const account = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/lookup/service-accounts',
      payload: { name: 'gateway', role: 'viewer' },
    });
    assert.equal(account.statusCode, 201, account.body);
    const accountKey = await createKey(t, admin, 'lookup', {
      name: 'robot key',
      service_account_id: account.json().id,
    });
    const revoked = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/lookup/api-keys/${accountKey.id}`,
    });
    assert.ok(revoked.statusCode < 300, revoked.body);

    const ctx = t.services.systemContext('test');
    for (const token of [userKey.token, accountKey.token]) {
      const named = await authLookupQuery(ctx.db, keyIdOf(token)).executeTakeFirstOrThrow();
      const decoded = await selectKeyForAuth(ctx, keyIdOf(token));
      assert.deepEqual(decoded, named);
      // Inside a transaction the lookup goes through Kysely and is decoded the same way.
      const inTransaction = await t.database.db
        .transaction()
        .execute(async (trx) => selectKeyForAuth({ ...ctx, db: trx }, keyIdOf(token)));
      assert.deepEqual(inTransaction, named);
    }
    // The two rows differ where the owners differ, so a column read from the wrong place shows.
    const [user, robot] = await Promise.all(
      [userKey.token, accountKey.token].map((token) => selectKeyForAuth(ctx, keyIdOf(token))),
    );
    assert.equal(user?.read_only, 1);
    assert.equal(typeof user?.expires_at, 'number');
    assert.equal(user?.member_role, 'admin');
    assert.equal(user?.user_status, 'active');
    assert.equal(robot?.service_account_role, 'viewer');
    assert.equal(typeof robot?.revoked_at, 'number');
    assert.equal(robot?.user_id, null);
    assert.equal(await selectKeyForAuth(ctx, 'nosuchkeyid0'), undefined);
  });
});
