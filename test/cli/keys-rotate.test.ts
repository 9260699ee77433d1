// `gatehouse keys rotate` beside a running server (SPEC §9): the next signing key becomes
// current, a new next key is made, the old current stays published; on PostgreSQL the
// running server signs with the new key within a second, without a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { systemClock } from '../../src/core/clock.ts';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type DbHandle, openDb } from '../../src/db/index.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { createOauthAdapter } from '../../src/oauth/adapter.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';
import { runGatehouse } from '../helpers/process.ts';

const CLIENT_ID = 'rotation-probe';
const PUBLIC_URL = 'http://localhost:8080';
const CLIENT_SECRET = 'a-long-random-client-secret-rotation';

interface Rotated {
  oauth_signing_keys: { current: string; next: string; retired: string };
}

for (const kind of backendKinds()) {
  describe(`gatehouse keys rotate [${kind}]`, () => {
    let testDatabase: TestDatabase;
    let database: DbHandle;
    let server: RunningServer;
    let dataDir: string;
    let env: Record<string, string>;

    before(async () => {
      testDatabase = await createTestDatabase(kind);
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
      env = {
        GATEHOUSE_DATABASE_URL: testDatabase.url,
        GATEHOUSE_SECRET_KEY: generateMasterKey(),
        GATEHOUSE_DATA_DIR: dataDir,
        GATEHOUSE_PUBLIC_URL: PUBLIC_URL,
      };
      server = await startServer({ ...env, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent' });
      database = openDb(testDatabase.config, silentLogger);
      const Adapter = createOauthAdapter({ db: database.db, clock: systemClock });
      await new Adapter('Client').upsert(CLIENT_ID, {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
      });
    });
    after(async () => {
      await server?.stop();
      await database?.close();
      await testDatabase?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const publishedKids = async () =>
      ((await (await fetch(`${server.url}/oauth/jwks`)).json()) as { keys: { kid: string }[] }).keys.map(
        (k) => k.kid,
      );
    const signingKid = async () => {
      const res = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${PUBLIC_URL}/mcp` }),
      });
      const body = (await res.json()) as { access_token?: string };
      assert.equal(res.status, 200, JSON.stringify(body));
      return decodeProtectedHeader(body.access_token!).kid;
    };

    it('promotes the next key, makes a new one and keeps the retired one published', async () => {
      const before = await database.db.selectFrom('oauth_signing_keys').select(['id', 'state']).execute();
      const next = before.find((k) => k.state === 'next')!.id;
      const current = before.find((k) => k.state === 'current')!.id;

      const run = await runGatehouse(['keys', 'rotate', '--json'], { env });
      assert.equal(run.code, 0, run.stderr);
      const { oauth_signing_keys: rotated } = JSON.parse(run.stdout) as Rotated;
      assert.equal(rotated.current, next);
      assert.equal(rotated.retired, current);
      assert.ok(![next, current].includes(rotated.next));

      const states = Object.fromEntries(
        (await database.db.selectFrom('oauth_signing_keys').select(['id', 'state']).execute()).map((k) => [
          k.id,
          k.state,
        ]),
      );
      assert.deepEqual(
        {
          [rotated.current]: states[rotated.current],
          [rotated.next]: states[rotated.next],
          [rotated.retired]: states[rotated.retired],
        },
        { [rotated.current]: 'current', [rotated.next]: 'next', [rotated.retired]: 'retired' },
      );

      const human = await runGatehouse(['keys', 'rotate'], { env });
      assert.equal(human.code, 0, human.stderr);
      assert.match(
        human.stdout,
        /^rotated OAuth signing keys: \S+ signs now \(was \S+, published until its tokens expire\); next is \S+\n$/,
      );

      if (kind === 'postgres') {
        // The running server hears of it and signs with the new current key, the old ones still published.
        // The second run promoted the first run's next key.
        const latest = { current: rotated.next };
        const deadline = Date.now() + 1000;
        let kid = await signingKid();
        while (kid !== latest.current && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          kid = await signingKid();
        }
        assert.equal(kid, latest.current, 'the server signs with the key the command made current');
        const kids = await publishedKids();
        for (const id of [rotated.current, rotated.retired, latest.current])
          assert.ok(kids.includes(id), `${id} published`);
      }
    });

    it('says in one line why it cannot run when the database is out of reach', async () => {
      const run = await runGatehouse(['keys', 'rotate'], {
        env: {
          ...env,
          GATEHOUSE_DATABASE_URL:
            kind === 'sqlite'
              ? `sqlite:${join(dataDir, 'missing', 'nope.db')}`
              : 'postgres://postgres@127.0.0.1:1/none',
        },
      });
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.doesNotMatch(run.stderr, /^\s+at /m);
    });
  });
}
