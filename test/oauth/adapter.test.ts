// oidc-provider's storage adapter on both databases: what it stores comes back, expiry and
// consumption are enforced on read, revoking a grant reaches every model, and a second node
// (its own connection) sees the first one's writes; stored clients are kept in memory and
// dropped on every node when they change.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { DAY, HOUR, MINUTE, SECOND } from '../../src/core/clock.ts';
import { type DbHandle, openDb } from '../../src/db/index.ts';
import {
  createOauthAdapter,
  createReadAhead,
  NOT_READ_AHEAD,
  purgeExpiredOauthArtifacts,
} from '../../src/oauth/adapter.ts';
import { TEST_PASSWORD, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { silentLogger } from '../helpers/logger.ts';

// Tests of one backend share its database and its clock: ids are unique per test, and the
// lifetimes that must outlive a test are far longer than all the clock advances together.
const LONG_LIVED_S = DAY / SECOND;

function adapterClass(t: TestApp) {
  return createOauthAdapter({ db: t.services.database.db, clock: t.clock });
}

function newId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

async function storedRow(t: TestApp, model: string, id: string) {
  return t.services.database.db
    .selectFrom('oauth_artifacts')
    .selectAll()
    .where('model', '=', model)
    .where('id', '=', id)
    .executeTakeFirst();
}

describeEachBackend('oauth storage adapter', (get) => {
  it('returns what was upserted, with the indexed fields stored in their columns', async () => {
    const t = get();
    const AccessToken = new (adapterClass(t))('AccessToken');
    const id = newId('at');
    const grantId = newId('grant');
    const payload = { jti: id, kind: 'AccessToken', grantId, scope: 'openid email', nested: { a: [1, 2] } };

    await AccessToken.upsert(id, payload, 3600);

    assert.deepEqual(await AccessToken.find(id), payload);
    const row = await storedRow(t, 'AccessToken', id);
    assert.equal(row?.grant_id, grantId);
    assert.equal(row?.expires_at, t.clock.now() + 3600 * SECOND);
    assert.equal(row?.consumed_at, null);
  });

  it('stores an artifact without a lifetime as never expiring', async () => {
    const t = get();
    const Client = new (adapterClass(t))('Client');
    const id = newId('client');

    await Client.upsert(id, { client_id: id, redirect_uris: ['https://rp.example/cb'] });

    assert.equal((await storedRow(t, 'Client', id))?.expires_at, null);
    assert.deepEqual(await Client.find(id), { client_id: id, redirect_uris: ['https://rp.example/cb'] });
  });

  it('answers undefined for an id it never stored', async () => {
    const AccessToken = new (adapterClass(get()))('AccessToken');
    assert.equal(await AccessToken.find(newId('missing')), undefined);
  });

  it('replaces the payload and lifetime when the same id is upserted again', async () => {
    const t = get();
    const Session = new (adapterClass(t))('Session');
    const id = newId('sess');

    await Session.upsert(id, { uid: 'first-uid', accountId: 'user-1' }, 60);
    await Session.upsert(id, { uid: 'second-uid', accountId: 'user-1', acr: 'mfa' }, LONG_LIVED_S);

    assert.deepEqual(await Session.find(id), { uid: 'second-uid', accountId: 'user-1', acr: 'mfa' });
    assert.equal(await Session.findByUid('first-uid'), undefined);
    const rows = await t.services.database.db
      .selectFrom('oauth_artifacts')
      .select('expires_at')
      .where('model', '=', 'Session')
      .where('id', '=', id)
      .execute();
    assert.deepEqual(rows, [{ expires_at: t.clock.now() + DAY }]);
  });

  it('keys rows by model: the same id under another model is another artifact', async () => {
    const Adapter = adapterClass(get());
    const id = newId('shared');
    await new Adapter('AuthorizationCode').upsert(id, { kind: 'AuthorizationCode' }, LONG_LIVED_S);
    await new Adapter('RefreshToken').upsert(id, { kind: 'RefreshToken' }, LONG_LIVED_S);

    assert.deepEqual(await new Adapter('AuthorizationCode').find(id), { kind: 'AuthorizationCode' });
    assert.deepEqual(await new Adapter('RefreshToken').find(id), { kind: 'RefreshToken' });
    assert.equal(await new Adapter('AccessToken').find(id), undefined);
  });

  it('refuses an artifact from the moment it expires, though the row is still there', async () => {
    const t = get();
    const Code = new (adapterClass(t))('AuthorizationCode');
    const id = newId('code');
    await Code.upsert(id, { jti: id }, 10);

    t.clock.advance(10 * SECOND - 1);
    assert.deepEqual(await Code.find(id), { jti: id });
    t.clock.advance(1);
    assert.equal(await Code.find(id), undefined);
    assert.ok(await storedRow(t, 'AuthorizationCode', id), 'the expired row is left for the purge');
  });

  it('finds a session by its uid, only under its own model and only while it lives', async () => {
    const t = get();
    const Adapter = adapterClass(t);
    const Session = new Adapter('Session');
    const uid = newId('uid');
    const payload = { uid, accountId: 'user-7' };
    await Session.upsert(newId('sess'), payload, 30);

    assert.deepEqual(await Session.findByUid(uid), payload);
    assert.equal(await new Adapter('Interaction').findByUid(uid), undefined);
    assert.equal(await Session.findByUid(newId('other-uid')), undefined);
    t.clock.advance(30 * SECOND);
    assert.equal(await Session.findByUid(uid), undefined);
  });

  it('finds a device code by its user code, only under its own model and only while it lives', async () => {
    const t = get();
    const Adapter = adapterClass(t);
    const DeviceCode = new Adapter('DeviceCode');
    const userCode = `WDJB-${randomUUID().slice(0, 4).toUpperCase()}`;
    const payload = { userCode, params: { client_id: 'cli' } };
    await DeviceCode.upsert(newId('dc'), payload, 60);

    assert.deepEqual(await DeviceCode.findByUserCode(userCode), payload);
    assert.equal(await new Adapter('AccessToken').findByUserCode(userCode), undefined);
    t.clock.advance(MINUTE);
    assert.equal(await DeviceCode.findByUserCode(userCode), undefined);
  });

  it('marks a consumed artifact with the epoch second of consumption and still returns it', async () => {
    const t = get();
    const Adapter = adapterClass(t);
    const Code = new Adapter('AuthorizationCode');
    const id = newId('code');
    const payload = { jti: id, grantId: newId('grant') };
    await Code.upsert(id, payload, LONG_LIVED_S);
    assert.equal((await Code.find(id))?.consumed, undefined);

    t.clock.advance(1500);
    const consumedAtMs = t.clock.now();
    await Code.consume(id);

    const found = await Code.find(id);
    assert.equal(typeof found?.consumed, 'number');
    assert.equal(found?.consumed, Math.floor(consumedAtMs / 1000));
    assert.deepEqual({ ...found, consumed: undefined }, { ...payload, consumed: undefined });
    assert.equal(await new Adapter('RefreshToken').find(id), undefined, 'consume touched no other model');
  });

  it('keeps the consumption when a consumed artifact is saved again', async () => {
    const t = get();
    const Token = new (adapterClass(t))('RefreshToken');
    const id = newId('rt');
    await Token.upsert(id, { jti: id }, LONG_LIVED_S);
    await Token.consume(id);

    await Token.upsert(id, { jti: id, rotations: 1 }, LONG_LIVED_S);

    const found = await Token.find(id);
    assert.equal(found?.rotations, 1);
    assert.equal(typeof found?.consumed, 'number');
  });

  it('destroys one artifact and leaves the same id of another model', async () => {
    const t = get();
    const Adapter = adapterClass(t);
    const id = newId('gone');
    await new Adapter('Interaction').upsert(id, { uid: id }, LONG_LIVED_S);
    await new Adapter('Session').upsert(id, { uid: id }, LONG_LIVED_S);

    await new Adapter('Interaction').destroy(id);

    assert.equal(await new Adapter('Interaction').find(id), undefined);
    assert.equal(await storedRow(t, 'Interaction', id), undefined);
    assert.deepEqual(await new Adapter('Session').find(id), { uid: id });
  });

  it('revokes every artifact of a grant, whatever its model, and no other grant', async () => {
    const t = get();
    const Adapter = adapterClass(t);
    const revoked = newId('grant');
    const kept = newId('grant');
    const ids = { at: newId('at'), rt: newId('rt'), code: newId('code'), other: newId('at') };
    await new Adapter('AccessToken').upsert(ids.at, { grantId: revoked }, LONG_LIVED_S);
    await new Adapter('RefreshToken').upsert(ids.rt, { grantId: revoked }, LONG_LIVED_S);
    await new Adapter('AuthorizationCode').upsert(ids.code, { grantId: revoked }, LONG_LIVED_S);
    await new Adapter('AccessToken').upsert(ids.other, { grantId: kept }, LONG_LIVED_S);

    await new Adapter('AccessToken').revokeByGrantId(revoked);

    assert.equal(await new Adapter('AccessToken').find(ids.at), undefined);
    assert.equal(await new Adapter('RefreshToken').find(ids.rt), undefined);
    assert.equal(await new Adapter('AuthorizationCode').find(ids.code), undefined);
    assert.deepEqual(await new Adapter('AccessToken').find(ids.other), { grantId: kept });
  });

  it('purges only the expired artifacts and says how many', async () => {
    const t = get();
    const ctx = t.services.systemContext('test-purge');
    // Earlier tests leave expired rows behind on purpose; start from none.
    await purgeExpiredOauthArtifacts(ctx);
    const Adapter = adapterClass(t);
    const ids = { short1: newId('s'), short2: newId('s'), long: newId('l'), forever: newId('f') };
    await new Adapter('AccessToken').upsert(ids.short1, { n: 1 }, 30);
    await new Adapter('Interaction').upsert(ids.short2, { n: 2 }, 30);
    await new Adapter('AccessToken').upsert(ids.long, { n: 3 }, HOUR / SECOND);
    await new Adapter('Client').upsert(ids.forever, { n: 4 });

    assert.equal(await purgeExpiredOauthArtifacts(ctx), 0, 'nothing has expired yet');
    t.clock.advance(30 * SECOND);
    assert.equal(await purgeExpiredOauthArtifacts(ctx), 2);

    assert.equal(await storedRow(t, 'AccessToken', ids.short1), undefined);
    assert.equal(await storedRow(t, 'Interaction', ids.short2), undefined);
    assert.ok(await storedRow(t, 'AccessToken', ids.long));
    assert.ok(await storedRow(t, 'Client', ids.forever));
    assert.equal(await purgeExpiredOauthArtifacts(ctx), 0, 'a second purge finds nothing');
  });

  it("sees another node's writes through that node's own connection", async (test) => {
    const t = get();
    const other = openDb(t.testDatabase.config, silentLogger);
    test.after(() => other.close());
    const NodeA = createOauthAdapter({ db: t.services.database.db, clock: t.clock });
    const NodeB = createOauthAdapter({ db: other.db, clock: t.clock });
    const id = newId('code');
    const grantId = newId('grant');

    await new NodeA('AuthorizationCode').upsert(id, { jti: id, grantId }, LONG_LIVED_S);
    assert.deepEqual(await new NodeB('AuthorizationCode').find(id), { jti: id, grantId });

    // A code redeemed on one node is seen as replayed on the other.
    await new NodeB('AuthorizationCode').consume(id);
    assert.equal(typeof (await new NodeA('AuthorizationCode').find(id))?.consumed, 'number');

    await new NodeA('RefreshToken').upsert(newId('rt'), { grantId }, LONG_LIVED_S);
    await new NodeB('AccessToken').revokeByGrantId(grantId);
    assert.equal(await new NodeA('AuthorizationCode').find(id), undefined);
    const left = await t.services.database.db
      .selectFrom('oauth_artifacts')
      .select('id')
      .where('grant_id', '=', grantId)
      .execute();
    assert.deepEqual(left, []);
  });

  it('keeps a stored client in memory, and every node drops it when it is saved again or destroyed', async (test) => {
    const t = get();
    // PostgreSQL: a second node with its own connection and listener. SQLite is one node.
    const other = t.kind === 'postgres' ? openDb(t.testDatabase.config, silentLogger) : undefined;
    test.after(() => other?.close());
    const cachingNode = (handle: DbHandle) =>
      createOauthAdapter({
        db: handle.db,
        clock: t.clock,
        clientCache: {
          notifications: handle.notifications,
          log: silentLogger,
          enabled: true,
          ttlMs: HOUR,
          maxEntries: 100,
        },
      });
    const NodeA = cachingNode(t.services.database);
    const NodeB = cachingNode(other ?? t.services.database);
    const listening = (other ?? t.services.database).notifications;
    const heard: string[] = [];
    listening.subscribe('oauth_clients', (tag) => heard.push(tag));
    await until(() => listening.isLive());
    const id = newId('client');
    const registration = { client_id: id, redirect_uris: ['https://app.example/cb'] };

    await new NodeA('Client').upsert(id, registration);
    // A read that overlaps the registration's own notification is not kept (the cache's
    // ticket), so B reads once that has arrived.
    await until(() => heard.includes(id));
    assert.deepEqual(await new NodeB('Client').find(id), registration);
    // Changed behind the adapter's back: the node answers from memory.
    await t.services.database.db
      .updateTable('oauth_artifacts')
      .set({ payload_json: JSON.stringify({ ...registration, client_name: 'changed in SQL' }) })
      .where('model', '=', 'Client')
      .where('id', '=', id)
      .execute();
    assert.deepEqual(await new NodeB('Client').find(id), registration);
    // Each find hands out its own copy.
    const copy = await new NodeB('Client').find(id);
    (copy as Record<string, unknown>).client_name = 'mutated by the caller';
    assert.deepEqual(await new NodeB('Client').find(id), registration);

    const renamed = { ...registration, client_name: 'Renamed' };
    await new NodeA('Client').upsert(id, renamed);
    await until(async () => (await new NodeB('Client').find(id))?.client_name === 'Renamed');

    await new NodeA('Client').destroy(id);
    await until(async () => (await new NodeB('Client').find(id)) === undefined);
    // Only registrations are kept: other models are read every time.
    const code = newId('code');
    await new NodeA('AuthorizationCode').upsert(code, { jti: code }, LONG_LIVED_S);
    await t.services.database.db.deleteFrom('oauth_artifacts').where('id', '=', code).execute();
    assert.equal(await new NodeB('AuthorizationCode').find(code), undefined);
  });

  it("reads a refresh token's grant with it for the rest of that request only, once, and not after it changed", async () => {
    const t = get();
    let request: object | undefined = {};
    const readAhead = createReadAhead(() => request);
    const Adapter = createOauthAdapter({ db: t.services.database.db, clock: t.clock, readAhead });
    const Grant = new Adapter('Grant');
    const RefreshToken = new Adapter('RefreshToken');
    const grantId = newId('grant');
    const grant = { jti: grantId, kind: 'Grant', accountId: 'user-1', clientId: 'client-1' };
    await Grant.upsert(grantId, grant, LONG_LIVED_S);
    const tokenId = newId('rt');
    await RefreshToken.upsert(tokenId, { jti: tokenId, kind: 'RefreshToken', grantId }, LONG_LIVED_S);
    const deleteGrantBehindAdapter = () =>
      t.services.database.db
        .deleteFrom('oauth_artifacts')
        .where('model', '=', 'Grant')
        .where('id', '=', grantId)
        .execute();
    const restoreGrant = () => Grant.upsert(grantId, grant, LONG_LIVED_S);

    // Read together: the grant gone from the table afterwards is still what the token's read saw.
    assert.equal((await RefreshToken.find(tokenId))?.grantId, grantId);
    await deleteGrantBehindAdapter();
    assert.deepEqual(await Grant.find(grantId), grant);
    // Taken once: the next read of it goes to the table.
    assert.equal(await Grant.find(grantId), undefined);

    // Another request does not see what this one kept.
    await restoreGrant();
    await RefreshToken.find(tokenId);
    request = {};
    await deleteGrantBehindAdapter();
    assert.equal(await Grant.find(grantId), undefined);

    // Changed through the adapter in the same request: nothing kept is used.
    await restoreGrant();
    await RefreshToken.find(tokenId);
    await Grant.destroy(grantId);
    assert.equal(await Grant.find(grantId), undefined);
    await restoreGrant();
    await RefreshToken.find(tokenId);
    await RefreshToken.revokeByGrantId(grantId);
    await deleteGrantBehindAdapter();
    assert.equal(await Grant.find(grantId), undefined);

    // An expired or missing grant is read as missing, and that is kept too (the revocation
    // above took the token with it).
    await RefreshToken.upsert(tokenId, { jti: tokenId, kind: 'RefreshToken', grantId }, LONG_LIVED_S);
    await Grant.upsert(grantId, grant, 60);
    t.clock.advance(61 * SECOND);
    await RefreshToken.find(tokenId);
    await t.services.database.db
      .updateTable('oauth_artifacts')
      .set({ expires_at: t.clock.now() + HOUR })
      .where('model', '=', 'Grant')
      .where('id', '=', grantId)
      .execute();
    assert.equal(await Grant.find(grantId), undefined, 'the grant as the token read saw it: expired');
    assert.deepEqual(await Grant.find(grantId), grant);

    // Outside any request of the library's, every find reads alone.
    request = undefined;
    await RefreshToken.find(tokenId);
    await deleteGrantBehindAdapter();
    assert.equal(await Grant.find(grantId), undefined);
  });

  it('stores and consumes the artifacts of one turn each as alone, two saves of one artifact included', async () => {
    const t = get();
    const RefreshToken = new (adapterClass(t))('RefreshToken');
    const ids = Array.from({ length: 6 }, () => newId('rt'));
    const twice = newId('rt');
    await Promise.all([
      ...ids.map((id, i) =>
        RefreshToken.upsert(
          id,
          { jti: id, kind: 'RefreshToken', grantId: `grant-${i}`, accountId: `usr-${i}` },
          60,
        ),
      ),
      // Two saves of one artifact in one turn: the shared statement cannot take both.
      RefreshToken.upsert(twice, { jti: twice, kind: 'RefreshToken', n: 1 }, 60),
      RefreshToken.upsert(twice, { jti: twice, kind: 'RefreshToken', n: 2 }, 60),
    ]);
    for (const [i, id] of ids.entries()) {
      const row = await storedRow(t, 'RefreshToken', id);
      assert.equal(row?.grant_id, `grant-${i}`, `token ${i}`);
      assert.equal(row?.account_id, `usr-${i}`, `token ${i}`);
      assert.equal(row?.expires_at, t.clock.now() + 60 * SECOND, `token ${i}`);
      assert.equal(row?.consumed_at, null, `token ${i}`);
      assert.equal(JSON.parse(row?.payload_json ?? '{}').jti, id, `token ${i}`);
    }
    assert.ok([1, 2].includes((await RefreshToken.find(twice))?.n as number), 'one of the two saves');

    // Three tokens, one unknown one, and the first token again: each answered as if alone.
    const outcomes = await Promise.allSettled(
      [...ids.slice(0, 3), newId('rt'), ids[0]!].map((id) => RefreshToken.consume(id)),
    );
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? 'spent' : (o.reason as Error).message)),
      ['spent', 'spent', 'spent', 'invalid_grant', 'invalid_grant'],
      'a token unknown or spent in the same turn is refused',
    );
    for (const [i, id] of ids.entries()) {
      const row = await storedRow(t, 'RefreshToken', id);
      assert.equal(row?.consumed_at, i < 3 ? t.clock.now() : null, `token ${i}`);
    }
  });

  it('answers refresh tokens read in the same turn each with its own grant (one statement on PostgreSQL)', async () => {
    const t = get();
    const request = {};
    const readAhead = createReadAhead(() => request);
    const Adapter = createOauthAdapter({ db: t.services.database.db, clock: t.clock, readAhead });
    const Grant = new Adapter('Grant');
    const RefreshToken = new Adapter('RefreshToken');
    const chains = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const grantId = newId('grant');
        const grant = { jti: grantId, kind: 'Grant', accountId: `user-${i}`, clientId: 'client-1' };
        await Grant.upsert(grantId, grant, LONG_LIVED_S);
        const tokenId = newId('rt');
        // The last token expires before it is read.
        await RefreshToken.upsert(
          tokenId,
          { jti: tokenId, kind: 'RefreshToken', grantId },
          i === 4 ? 60 : LONG_LIVED_S,
        );
        return { grantId, grant, tokenId };
      }),
    );
    t.clock.advance(61 * SECOND);
    const found = await Promise.all([
      ...chains.map(({ tokenId }) => RefreshToken.find(tokenId)),
      RefreshToken.find(newId('rt')),
    ]);
    for (const [i, { grantId, grant }] of chains.entries()) {
      if (i === 4) {
        assert.equal(found[i], undefined, 'the expired token');
        continue;
      }
      assert.equal(found[i]?.grantId, grantId, `token ${i}`);
      const kept = readAhead.take('Grant', grantId) as { payload_json: string } | undefined;
      assert.deepEqual(JSON.parse(kept?.payload_json ?? 'null'), grant, `grant ${i}, read with its token`);
    }
    assert.equal(found[5], undefined, 'a token never stored');
  });

  it('reads the user a refresh token was issued to with it, for that request only and once', async () => {
    const t = get();
    let request: object | undefined = {};
    const readAhead = createReadAhead(() => request);
    const Adapter = createOauthAdapter({ db: t.services.database.db, clock: t.clock, readAhead });
    const RefreshToken = new Adapter('RefreshToken');
    const slug = `ra${randomUUID().slice(0, 8)}`;
    const { userId } = await t.services.bootstrap.createAdmin(t.services.systemContext('test'), {
      email: `ada@${slug}.example`,
      name: 'Ada',
      password: TEST_PASSWORD,
      orgSlug: slug,
    });
    const user = { id: userId, email: `ada@${slug}.example`, name: 'Ada', status: 'active' };
    const tokenId = newId('rt');
    const token = { jti: tokenId, kind: 'RefreshToken', accountId: user.id, grantId: newId('grant') };
    await RefreshToken.upsert(tokenId, token, LONG_LIVED_S);
    assert.equal((await storedRow(t, 'RefreshToken', tokenId))?.account_id, user.id);

    await RefreshToken.find(tokenId);
    assert.deepEqual(readAhead.take('Account', user.id), user);
    assert.equal(readAhead.take('Account', user.id), NOT_READ_AHEAD, 'taken once');
    await RefreshToken.find(tokenId);
    request = {};
    assert.equal(readAhead.take('Account', user.id), NOT_READ_AHEAD, 'another request');

    // A token naming a user that is not there (or a row from before the column) keeps nothing:
    // the user is then read the usual way, which decides.
    const orphan = newId('rt');
    await RefreshToken.upsert(
      orphan,
      { jti: orphan, kind: 'RefreshToken', accountId: 'usr_gone' },
      LONG_LIVED_S,
    );
    await RefreshToken.find(orphan);
    assert.equal(readAhead.take('Account', 'usr_gone'), NOT_READ_AHEAD);
  });
});

/** Waits up to a second (the cross-node bound) for `check` to hold. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 1000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('not within 1 second');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
