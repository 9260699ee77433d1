// Rotating the authorization server's signing keys (SPEC §4): on demand and when the current
// key is due, with every node — this one and, on PostgreSQL, another on the same database —
// serving the new key set, tokens signed by the new current key, and tokens signed before
// the rotation still verifying.
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { DAY } from '../../src/core/clock.ts';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { createTestApp, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { backendKinds } from '../helpers/backends.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  clientCredentialsToken,
  PUBLIC_URL,
  publishedJwks,
  registerConfidentialClient,
  userAccessToken,
  verifyAccessToken,
} from '../helpers/oauth.ts';

const kids = async (t: TestApp) => (await publishedJwks(t)).keys.map((key) => key.kid).sort();

async function eventually(check: () => Promise<boolean>, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describeEachBackend('OAuth signing key rotation', (app) => {
  it('serves the new keys at once, signs with the new current key, and still verifies tokens signed before', async () => {
    const t = app();
    await registerConfidentialClient(t, 'svc-rotate', 'a-long-random-client-secret-0003');
    const before = await clientCredentialsToken(t, 'svc-rotate', 'a-long-random-client-secret-0003');
    const oldKids = await kids(t);
    const rotated = await t.services.oauth.rotateSigningKeys(t.services.systemContext('test'));

    const newKids = await kids(t);
    assert.equal(newKids.length, 3, 'next, current and the retired key');
    assert.ok(newKids.includes(rotated.next) && newKids.includes(rotated.current));
    assert.ok(oldKids.includes(rotated.current), 'the key published as next now signs');
    assert.ok(newKids.includes(rotated.retired), 'the retired key is still published');
    const after = await clientCredentialsToken(t, 'svc-rotate', 'a-long-random-client-secret-0003');
    assert.equal(decodeProtectedHeader(after).kid, rotated.current);
    assert.equal(decodeProtectedHeader(before).kid, rotated.retired);
    for (const token of [before, after]) await verifyAccessToken(t, token);
  });

  it('has the resolver accept tokens of the retired key until it is unpublished, and the new key at once', async (test: TestContext) => {
    // No cache: every request verifies the token again, through the resolver's verifiers.
    const t = await createTestApp(app().kind, { GATEHOUSE_CREDENTIAL_CACHE_SECONDS: '0' });
    test.after(() => t.close());
    t.clock.set(Date.now());
    const { admin } = await setUpOrgWithAdmin(t, 'rot-use');
    const tokenFor = () =>
      userAccessToken(t, admin.userId, { scope: 'profile:own', resource: `${PUBLIC_URL}/v1` });
    const me = async (token: string) =>
      t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
    const before = await tokenFor();
    assert.equal((await me(before)).statusCode, 200);

    const ctx = t.services.systemContext('test');
    const rotated = await t.services.oauth.rotateSigningKeys(ctx);
    const after = await tokenFor();
    assert.equal(decodeProtectedHeader(after).kid, rotated.current);
    assert.equal((await me(after)).statusCode, 200, 'the new current key verifies at once');
    assert.equal((await me(before)).statusCode, 200, 'the retired key still verifies');

    // A day on the retired key is past its retention: the next rotation unpublishes it, and its
    // token is refused as not signed by a published key (before its expiry is even looked at).
    t.clock.advance(DAY + 1000);
    await t.services.oauth.rotateSigningKeys(ctx);
    assert.ok(!(await kids(t)).includes(rotated.retired));
    const refused = await me(before);
    assert.equal(refused.statusCode, 401, refused.body);
    assert.equal(refused.json().error.code, 'access_token_invalid');
  });

  it('rotates on schedule only once the current key is older than GATEHOUSE_OAUTH_KEY_ROTATION_DAYS', async (test: TestContext) => {
    const t = await createTestApp(app().kind, { GATEHOUSE_OAUTH_KEY_ROTATION_DAYS: '30' });
    test.after(() => t.close());
    const ctx = () => t.services.systemContext('test');
    const start = await kids(t);
    t.clock.advance(29 * DAY);
    assert.equal(await t.services.oauth.rotateSigningKeysIfDue(ctx()), false);
    assert.deepEqual(await kids(t), start, 'not due yet');
    t.clock.advance(DAY);
    assert.equal(await t.services.oauth.rotateSigningKeysIfDue(ctx()), true);
    assert.notDeepEqual(await kids(t), start);
    assert.equal(await t.services.oauth.rotateSigningKeysIfDue(ctx()), false, 'the new key is not due');

    const never = await createTestApp(app().kind, { GATEHOUSE_OAUTH_KEY_ROTATION_DAYS: '0' });
    test.after(() => never.close());
    never.clock.advance(3650 * DAY);
    assert.equal(
      await never.services.oauth.rotateSigningKeysIfDue(never.services.systemContext('test')),
      false,
    );
  });
});

// SQLite is one node by design (SPEC §8); two nodes share a PostgreSQL database.
if (backendKinds().includes('postgres')) {
  it('has a second node on the same PostgreSQL database serve the rotated keys within a second [postgres]', async (test) => {
    const env = { GATEHOUSE_SECRET_KEY: generateMasterKey() };
    const a = await createTestApp('postgres', env);
    test.after(() => a.close());
    const b = await createTestApp('postgres', env, { sharedDatabase: a.testDatabase });
    test.after(() => b.close());
    assert.deepEqual(await kids(b), await kids(a), 'one key set for both nodes');
    await registerConfidentialClient(a, 'svc-two-nodes', 'a-long-random-client-secret-0004');

    const rotated = await a.services.oauth.rotateSigningKeys(a.services.systemContext('test'));
    await eventually(
      async () => (await kids(b)).includes(rotated.next),
      1000,
      'node B publishes the new next key',
    );
    const fromB = await clientCredentialsToken(b, 'svc-two-nodes', 'a-long-random-client-secret-0004');
    assert.equal(decodeProtectedHeader(fromB).kid, rotated.current, 'node B signs with the new current key');
    await verifyAccessToken(a, fromB);
  });
}

// `gatehouse keys rotate` beside a SQLite server is another process: its notification never
// reaches the server, whose scheduled check then finds the set changed and reloads it.
it('has a node that missed the rotation pick it up at its scheduled check [sqlite]', async (test) => {
  const env = { GATEHOUSE_SECRET_KEY: generateMasterKey(), GATEHOUSE_OAUTH_KEY_ROTATION_DAYS: '30' };
  const server = await createTestApp('sqlite', env);
  test.after(() => server.close());
  const operator = await createTestApp('sqlite', env, { sharedDatabase: server.testDatabase });
  test.after(() => operator.close());
  const rotated = await operator.services.oauth.rotateSigningKeys(operator.services.systemContext('test'));
  assert.ok(!(await kids(server)).includes(rotated.next), 'not told: still the old set');
  const rotatedHere = await server.services.oauth.rotateSigningKeysIfDue(
    server.services.systemContext('test'),
  );
  assert.equal(rotatedHere, false, 'not due: the fresh key is not rotated again');
  assert.ok((await kids(server)).includes(rotated.next), 'the scheduled check reloaded the new set');
  await registerConfidentialClient(server, 'svc-missed', 'a-long-random-client-secret-0006');
  const token = await clientCredentialsToken(server, 'svc-missed', 'a-long-random-client-secret-0006');
  assert.equal(decodeProtectedHeader(token).kid, rotated.current);
});
