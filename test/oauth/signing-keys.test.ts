// The OAuth signing keys (RFC 9068 §2, RFC 7517 §5): made once for all nodes, rotated through
// next → current → retired without breaking a token signed before, kept only as envelopes
// under the master key, and every change audited.
import assert from 'node:assert/strict';
import { beforeEach, it } from 'node:test';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import { INSTANCE_CHAIN } from '../../src/audit/index.ts';
import { HOUR } from '../../src/core/clock.ts';
import {
  generateMasterKey,
  type MasterKeyRing,
  masterKeyId,
  parseMasterKey,
} from '../../src/core/secrets.ts';
import type { Ctx } from '../../src/db/index.ts';
import { createSigningKeys, type PrivateJwk, type PublicJwk } from '../../src/oauth/signing-keys.ts';
import type { TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

function newKeyRing(): MasterKeyRing {
  const key = parseMasterKey(generateMasterKey());
  return { currentKeyId: masterKeyId(key), keys: new Map([[masterKeyId(key), key]]) };
}

async function signToken(jwk: PrivateJwk): Promise<string> {
  return new SignJWT({ scope: 'org:read' })
    .setProtectedHeader({ alg: 'ES256', kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer('http://localhost:8080/oauth')
    .setAudience('http://localhost:8080/v1')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(await importJWK(jwk, 'ES256'));
}

async function verifies(token: string, published: PublicJwk[]): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet({ keys: published }), { algorithms: ['ES256'] });
    return true;
  } catch {
    return false;
  }
}

describeEachBackend('OAuth signing keys', (get) => {
  let t: TestApp;
  let ctx: Ctx;
  let keyRing: MasterKeyRing;

  const keysBy = (options: { retainRetiredMs?: number; ring?: MasterKeyRing } = {}) =>
    createSigningKeys({
      keyRing: options.ring ?? keyRing,
      clock: t.clock,
      audit: t.services.audit,
      retainRetiredMs: options.retainRetiredMs,
    });

  const rows = () => t.services.database.db.selectFrom('oauth_signing_keys').selectAll().execute();
  const idsIn = async (state: string) =>
    (await rows())
      .filter((r) => r.state === state)
      .map((r) => r.id)
      .sort();
  const auditRows = (action: string) =>
    t.services.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', action)
      .orderBy('seq', 'asc')
      .execute();

  beforeEach(async () => {
    t = get();
    ctx = t.services.systemContext('test');
    keyRing = newKeyRing();
    await t.services.database.db.deleteFrom('oauth_signing_keys').execute();
  });

  it('makes one current and one next key, and a second run makes nothing more', async () => {
    const keys = keysBy();
    await keys.ensure(ctx);
    const first = await rows();
    assert.deepEqual(first.map((r) => r.state).sort(), ['current', 'next']);
    assert.ok(first.every((r) => r.alg === 'ES256' && r.id.startsWith('osk_')));
    await keys.ensure(ctx);
    await keysBy().ensure(ctx);
    assert.deepEqual((await rows()).map((r) => r.id).sort(), first.map((r) => r.id).sort());
  });

  it('two nodes ensuring at once leave exactly one current and one next key', async () => {
    await Promise.all([keysBy().ensure(ctx), keysBy().ensure(t.services.systemContext('node-b'))]);
    assert.equal((await idsIn('current')).length, 1);
    assert.equal((await idsIn('next')).length, 1);
    const { signing } = await keysBy().load(ctx);
    assert.deepEqual([signing.kid], await idsIn('current'));
  });

  it('keeps the first activated current key when a race left two, and audits the repair', async () => {
    const keys = keysBy();
    await keys.ensure(ctx);
    const [current] = await idsIn('current');
    const [raced] = await idsIn('next');
    t.clock.advance(1000);
    await t.services.database.db
      .updateTable('oauth_signing_keys')
      .set({ state: 'current', activated_at: t.clock.now() })
      .where('id', '=', raced!)
      .execute();
    await keys.ensure(ctx);
    assert.deepEqual(await idsIn('current'), [current]);
    assert.equal((await idsIn('next')).length, 1);
    // The loser may have signed already: it stays published, as next or retired.
    const { signing, published } = await keys.load(ctx);
    assert.equal(signing.kid, current);
    assert.ok(published.some((k) => k.kid === raced));
    const repairs = (await auditRows('oauth.signing_keys_reconciled')).map((e) => JSON.parse(e.data_json));
    assert.ok(repairs.some((data) => JSON.stringify(data.demoted) === JSON.stringify([raced])));
  });

  it('signs with the current key a token that verifies against the published key set', async () => {
    const keys = keysBy();
    await keys.ensure(ctx);
    const { signing, published } = await keys.load(ctx);
    assert.deepEqual([signing.kid], await idsIn('current'));
    assert.equal(signing.alg, 'ES256');
    assert.equal(signing.use, 'sig');
    assert.equal(signing.crv, 'P-256');
    assert.deepEqual(published.map((k) => k.kid).sort(), (await rows()).map((r) => r.id).sort());
    assert.ok(published.every((k) => k.d === undefined && k.use === 'sig' && k.alg === 'ES256'));
    assert.ok(await verifies(await signToken(signing), published));
    const { privateKeys } = await keys.load(ctx);
    assert.equal(privateKeys[0]?.kid, signing.kid, 'the current key comes first');
    assert.deepEqual(privateKeys.map((k) => k.kid).sort(), published.map((k) => k.kid).sort());
  });

  it('rotates next to current and current to retired, and a token signed before still verifies', async () => {
    const keys = keysBy();
    await keys.ensure(ctx);
    const [oldCurrent] = await idsIn('current');
    const [oldNext] = await idsIn('next');
    const before = await signToken((await keys.load(ctx)).signing);
    t.clock.advance(HOUR);
    const rotated = await keys.rotate(ctx);
    assert.equal(rotated.retired, oldCurrent);
    assert.equal(rotated.current, oldNext);
    assert.notEqual(rotated.next, oldNext);
    assert.notEqual(rotated.next, oldCurrent);
    assert.deepEqual(await idsIn('current'), [rotated.current]);
    assert.deepEqual(await idsIn('next'), [rotated.next]);
    assert.deepEqual(await idsIn('retired'), [rotated.retired]);
    const stored = (await rows()).find((r) => r.id === rotated.current);
    assert.equal(Number(stored?.activated_at), t.clock.now());
    const { signing, published } = await keys.load(ctx);
    assert.equal(signing.kid, rotated.current);
    assert.deepEqual(published.map((k) => k.kid).sort(), [oldCurrent, oldNext, rotated.next].sort());
    assert.ok(await verifies(before, published), 'a token of the retired key still verifies');
    assert.ok(await verifies(await signToken(signing), published));
  });

  it('two nodes rotating at once leave one current and one next key, the loser changing nothing', async () => {
    await keysBy().ensure(ctx);
    const outcomes = await Promise.allSettled([
      keysBy().rotate(ctx),
      keysBy().rotate(t.services.systemContext('node-b')),
    ]);
    assert.ok(outcomes.some((o) => o.status === 'fulfilled'));
    for (const o of outcomes)
      if (o.status === 'rejected')
        assert.match(String(o.reason), /rotated the OAuth signing keys at the same time/);
    assert.equal((await idsIn('current')).length, 1);
    assert.equal((await idsIn('next')).length, 1);
    const rotations = outcomes.filter((o) => o.status === 'fulfilled').length;
    assert.equal((await idsIn('retired')).length, rotations);
  });

  it('stops publishing a retired key after its retention and deletes it at the next rotation', async () => {
    const keys = keysBy({ retainRetiredMs: HOUR });
    await keys.ensure(ctx);
    const first = await keys.rotate(ctx);
    const before = await signToken(
      (await keysBy().load(ctx)).privateKeys.find((k) => k.kid === first.retired)!,
    );
    t.clock.advance(HOUR);
    assert.ok(
      (await keys.load(ctx)).published.some((k) => k.kid === first.retired),
      'kept for the full hour',
    );
    t.clock.advance(1);
    const { published } = await keys.load(ctx);
    assert.ok(!published.some((k) => k.kid === first.retired), 'no longer published');
    assert.equal(await verifies(before, published), false);
    const second = await keys.rotate(ctx);
    assert.equal(second.retired, first.current);
    const ids = (await rows()).map((r) => r.id);
    assert.ok(!ids.includes(first.retired), 'the oldest retired key is gone');
    assert.ok(ids.includes(second.retired), 'the one retired just now stays');
    const deleted = (await auditRows('oauth.signing_key_deleted')).map((e) => e.target_id);
    assert.ok(deleted.includes(first.retired));
    assert.ok(!deleted.includes(second.retired));
  });

  it('stores the private key only as an envelope under the master key', async () => {
    const keys = keysBy();
    await keys.ensure(ctx);
    const { privateKeys } = await keys.load(ctx);
    for (const row of await rows()) {
      const d = privateKeys.find((k) => k.kid === row.id)?.d;
      assert.ok(d && d.length > 20, 'the private key decrypts');
      const publicJwk = JSON.parse(row.public_jwk_json) as Record<string, unknown>;
      assert.equal(publicJwk.d, undefined);
      assert.ok(!row.public_jwk_json.includes(d));
      assert.ok(!row.private_jwk_envelope.includes(d));
      assert.ok(!row.private_jwk_envelope.includes('"d"'));
      assert.equal(JSON.parse(row.private_jwk_envelope).kid, keyRing.currentKeyId);
    }
  });

  it('refuses to load with a master key that did not seal the keys, naming the key', async () => {
    await keysBy().ensure(ctx);
    const [current] = await idsIn('current');
    const d = (await keysBy().load(ctx)).signing.d;
    const wrong = keysBy({ ring: newKeyRing() });
    for (const attempt of [() => wrong.load(ctx)]) {
      await assert.rejects(attempt, (error: Error) => {
        assert.match(error.message, /master key cannot decrypt OAuth signing key/);
        assert.ok(error.message.includes(current!), error.message);
        assert.ok(!error.message.includes(d));
        return true;
      });
    }
    // Even with the right master key id, a forged key of that id does not open the envelope.
    const [known] = keyRing.keys.keys();
    const forged = { currentKeyId: known!, keys: new Map([[known!, Buffer.alloc(32, 7)]]) };
    await assert.rejects(keysBy({ ring: forged }).load(ctx), /master key cannot decrypt/);
  });

  it('says so when no key was ever made', async () => {
    await assert.rejects(keysBy().load(ctx), /no current OAuth signing key/);
  });

  it('audits every key made, each rotation and each deletion, as the system', async () => {
    const keys = keysBy({ retainRetiredMs: HOUR });
    await keys.ensure(ctx);
    const made = (await rows()).map((r) => r.id);
    const rotated = await keys.rotate(ctx);
    t.clock.advance(HOUR + 1);
    await keys.rotate(ctx);
    const created = (await auditRows('oauth.signing_key_created')).filter((e) =>
      [...made, rotated.next].includes(e.target_id ?? ''),
    );
    assert.deepEqual(created.map((e) => e.target_id).sort(), [...made, rotated.next].sort());
    const rotations = (await auditRows('oauth.signing_keys_rotated')).filter((e) =>
      [rotated.current, rotated.next].includes(e.target_id ?? ''),
    );
    assert.equal(rotations.length, 2);
    assert.deepEqual(JSON.parse(rotations[0]!.data_json), { ...rotated, also_retired: [] });
    const events = [...created, ...rotations, ...(await auditRows('oauth.signing_key_deleted'))];
    for (const event of events) {
      assert.equal(event.actor_kind, 'system');
      assert.equal(event.org_id, null);
      assert.ok(!event.data_json.includes('"d"'));
    }
    assert.equal((await t.services.audit.verify(ctx, INSTANCE_CHAIN)).valid, true);
  });
});
