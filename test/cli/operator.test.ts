import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { DATABASE_WAIT_MS, type DbHandle, openDb } from '../../src/db/index.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { form, hiddenField, TEST_PASSWORD } from '../helpers/app.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';
import { type GatehouseRun, linesOf, runGatehouse } from '../helpers/process.ts';

interface AdminCreated {
  user_id: string;
  org_id: string;
  created_user: boolean;
  created_org: boolean;
}

function assertOneLineError(run: GatehouseRun, code: number, pattern: RegExp): string {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  const lines = linesOf(run.stderr);
  assert.equal(lines.length, 1, `exactly one line on stderr:\n${run.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
  return lines[0]!;
}

/** Signs in through the running server's real /login form and returns GET /v1/me. */
async function meThroughServer(
  base: string,
  email: string,
): Promise<{ orgs: { slug: string; role: string }[] }> {
  const page = await fetch(`${base}/login`);
  const csrfCookie = page.headers
    .getSetCookie()
    .find((c) => c.startsWith('gatehouse_csrf='))!
    .split(';')[0]!;
  const signIn = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: form({ email, password: TEST_PASSWORD, csrf_token: hiddenField(await page.text(), 'csrf_token') }),
  });
  assert.equal(signIn.status, 303, await signIn.text());
  const session = signIn.headers
    .getSetCookie()
    .find((c) => c.startsWith('gatehouse_session='))!
    .split(';')[0]!;
  const me = await fetch(`${base}/v1/me`, { headers: { cookie: session } });
  assert.equal(me.status, 200);
  return (await me.json()) as { orgs: { slug: string; role: string }[] };
}

for (const kind of backendKinds()) {
  describe(`gatehouse operator commands [${kind}]`, () => {
    let testDatabase: TestDatabase;
    let database: DbHandle;
    let env: Record<string, string>;
    let server: RunningServer | undefined;
    let dataDir: string;
    const created: Record<string, AdminCreated> = {};

    before(async () => {
      testDatabase = await createTestDatabase(kind);
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
      env = {
        GATEHOUSE_DATABASE_URL: testDatabase.url,
        GATEHOUSE_SECRET_KEY: generateMasterKey(),
        GATEHOUSE_DATA_DIR: dataDir,
      };
      database = openDb(testDatabase.config, silentLogger);
    });
    after(async () => {
      await server?.stop();
      await database?.close();
      await testDatabase?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const gatehouse = (args: string[], stdin?: string) => runGatehouse(args, { env, stdin });

    it('creates the first admin and their org from a password on stdin, printing the ids with --json', async () => {
      const run = await gatehouse(
        ['admin', 'create', '--email', 'a@x.example', '--org', 'acme', '--json'],
        `${TEST_PASSWORD}\n`,
      );
      assert.equal(run.code, 0, run.stderr);
      const body = JSON.parse(run.stdout) as AdminCreated;
      assert.match(body.user_id, /^usr_/);
      assert.match(body.org_id, /^org_/);
      assert.equal(body.created_user, true);
      assert.equal(body.created_org, true);
      created.acme = body;
      const member = await database.db
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
        .select(['users.email', 'orgs.slug', 'memberships.role', 'users.password_hash'])
        .where('memberships.user_id', '=', body.user_id)
        .executeTakeFirstOrThrow();
      assert.equal(member.email, 'a@x.example');
      assert.equal(member.slug, 'acme');
      assert.equal(member.role, 'admin');
      assert.match(member.password_hash ?? '', /^\$argon2id\$/);
    });

    it('makes another admin while a server runs on the same database, and that server lets them sign in', async () => {
      server = await startServer({ ...env, GATEHOUSE_PORT: '0', GATEHOUSE_LOG_LEVEL: 'silent' });
      // At the same time: an existing user made admin of another new org needs no password.
      const [run, existing] = await Promise.all([
        gatehouse(
          ['admin', 'create', '--email', 'b@y.example', '--org', 'beta', '--org-name', 'Beta Inc', '--json'],
          `${TEST_PASSWORD}\n`,
        ),
        gatehouse(['admin', 'create', '--email', 'a@x.example', '--org', 'gamma']),
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(existing.code, 0, existing.stderr);
      assert.equal(existing.stdout, 'a@x.example is an admin of gamma (new org)\n');
      created.beta = JSON.parse(run.stdout) as AdminCreated;
      const me = await meThroughServer(server.url, 'b@y.example');
      assert.deepEqual(
        me.orgs.map((o) => [o.slug, o.role]),
        [['beta', 'admin']],
      );
    });

    it('refuses a short password in one line with exit 1 and creates nothing', async () => {
      const run = await gatehouse(
        ['admin', 'create', '--email', 'short@x.example', '--org', 'acme'],
        'short\n',
      );
      assertOneLineError(run, 1, /^gatehouse: .*password.*12 characters/i);
      assert.ok(!run.stderr.includes('--password'), 'names no flag that does not exist');
      const user = await database.db
        .selectFrom('users')
        .select('id')
        .where('email_normalized', '=', 'short@x.example')
        .executeTakeFirst();
      assert.equal(user, undefined);
    });

    it('verifies every audit chain with ok lines and exit 0', async () => {
      const run = await gatehouse(['audit', 'verify']);
      assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
      const lines = linesOf(run.stdout);
      assert.ok(
        lines.every((line) => /^ok\s+\S+: \d+ events verified$/.test(line)),
        run.stdout,
      );
      for (const chain of ['acme', 'beta', 'gamma', '(instance)'])
        assert.ok(
          lines.some((line) => line.includes(` ${chain}: `)),
          `${chain} is verified`,
        );
    });

    it('exits 1 naming the broken event after an audit row is edited in SQL, and --org narrows the check', async () => {
      const orgId = created.acme!.org_id;
      const first = await database.db
        .selectFrom('audit_events')
        .select(['id', 'data_json'])
        .where('chain_id', '=', orgId)
        .where('seq', '=', 1)
        .executeTakeFirstOrThrow();
      const tampered = first.data_json === '{}' ? '{"tampered":true}' : '{}';
      await sql`update audit_events set data_json = ${tampered} where seq = 1 and chain_id = ${orgId}`.execute(
        database.db,
      );
      const [all, beta] = await Promise.all([
        gatehouse(['audit', 'verify']),
        gatehouse(['--json', 'audit', 'verify', '--org', 'beta']),
      ]);
      assert.equal(all.code, 1, all.stdout);
      assert.match(all.stdout, new RegExp(`^BROKEN\\s+acme: .*seq 1 .*${first.id}`, 'm'));
      assert.match(all.stdout, /^ok\s+beta: /m, 'the other chains still verify');
      assert.equal(beta.code, 0, beta.stderr);
      const report = JSON.parse(beta.stdout) as { chain: string; result: { valid: boolean } }[];
      assert.deepEqual(
        report.map((r) => [r.chain, r.result.valid]),
        [['beta', true]],
      );
    });

    it('says the schema is current when migrate has nothing to do', async () => {
      const run = await gatehouse(['migrate']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'the database schema is current\n');
    });
  });
}

describe('gatehouse operator commands: usage and an unreachable database', () => {
  const unreachable = {
    GATEHOUSE_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x',
    GATEHOUSE_SECRET_KEY: generateMasterKey(),
  };

  it('exits 2 on an unknown flag or a missing --org, before touching the database', async () => {
    // The database is unreachable, so these exit 2 only if the usage is checked first.
    const [unknown, missing] = await Promise.all([
      runGatehouse(['admin', 'create', '--email', 'c@x.example', '--org', 'acme', '--frobnicate'], {
        env: unreachable,
      }),
      runGatehouse(['admin', 'create', '--email', 'c@x.example'], { env: unreachable }),
    ]);
    assertOneLineError(unknown, 2, /--frobnicate/);
    assertOneLineError(missing, 2, /--org/);
  });

  it('exits 1 within a few seconds with one line saying the database cannot be reached', async () => {
    const commands = [
      ['migrate'],
      ['audit', 'verify'],
      ['admin', 'create', '--email', 'a@x.example', '--org', 'acme'],
    ];
    // `--help` started alongside measures what starting node and tsx costs on this machine
    // right now, so the bound is the database wait plus that, not a guess about the host.
    const [help, ...runs] = await Promise.all(
      [['--help'], ...commands].map((args) =>
        runGatehouse(args, { env: unreachable, stdin: `${TEST_PASSWORD}\n`, timeoutMs: 20_000 }),
      ),
    );
    const bound = help!.durationMs + DATABASE_WAIT_MS + 2000;
    for (const [i, run] of runs.entries()) {
      const what = commands[i]!.join(' ');
      assert.equal(run.timedOut, false, `${what} hung`);
      assert.ok(run.durationMs < bound, `${what} took ${run.durationMs} ms (bound ${bound} ms)`);
      assertOneLineError(run, 1, /cannot reach the database/);
      assert.equal(run.stdout, '', `${what} printed nothing on stdout`);
    }
  });
});
