// `gatehouse admin create … --api-key NAME` (SPEC §3): the bootstrap of an automated install.
// The printed key must work on a running server at once and be enough to configure the org
// over /v1 with no browser; the admin and the key are made in one transaction.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type DbHandle, openDb } from '../../src/db/index.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { TEST_PASSWORD } from '../helpers/app.ts';
import {
  type BackendKind,
  backendKinds,
  createTestDatabase,
  type TestDatabase,
} from '../helpers/backends.ts';
import { callV1 } from '../helpers/http-client.ts';
import { silentLogger } from '../helpers/logger.ts';
import { type GatehouseRun, linesOf, runGatehouse } from '../helpers/process.ts';

const API_KEY_FORMAT = /^gk_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/;

interface AdminCreatedWithKey {
  user_id: string;
  org_id: string;
  created_user: boolean;
  created_org: boolean;
  api_key?: { id: string; name: string; token: string };
}

function assertUsageError(run: GatehouseRun, pattern: RegExp): void {
  assert.equal(run.code, 2, `exit code; stderr: ${run.stderr}`);
  const lines = linesOf(run.stderr);
  assert.equal(lines.length, 1, `exactly one line on stderr:\n${run.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.equal(run.stdout, '');
}

/** Makes the database itself refuse new API keys, so the second half of the command fails. */
async function refuseApiKeyInserts(database: DbHandle, kind: BackendKind): Promise<() => Promise<void>> {
  if (kind === 'sqlite') {
    await sql`create trigger refuse_api_keys before insert on api_keys begin select raise(abort, 'api keys are refused by a test trigger'); end`.execute(
      database.db,
    );
    return async () => {
      await sql`drop trigger refuse_api_keys`.execute(database.db);
    };
  }
  await sql`create function refuse_api_keys() returns trigger language plpgsql as $$ begin raise exception 'api keys are refused by a test trigger'; end $$`.execute(
    database.db,
  );
  await sql`create trigger refuse_api_keys before insert on api_keys for each row execute function refuse_api_keys()`.execute(
    database.db,
  );
  return async () => {
    await sql`drop trigger refuse_api_keys on api_keys`.execute(database.db);
    await sql`drop function refuse_api_keys()`.execute(database.db);
  };
}

for (const kind of backendKinds()) {
  describe(`gatehouse admin create --api-key [${kind}]`, { timeout: 120_000 }, () => {
    let testDatabase: TestDatabase;
    let database: DbHandle;
    let server: RunningServer;
    let env: Record<string, string>;
    let dataDir: string;
    let bootstrapToken: string;
    let beta: AdminCreatedWithKey;

    before(async () => {
      testDatabase = await createTestDatabase(kind);
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
      env = {
        GATEHOUSE_DATABASE_URL: testDatabase.url,
        GATEHOUSE_SECRET_KEY: generateMasterKey(),
        GATEHOUSE_DATA_DIR: dataDir,
      };
      server = await startServer({
        ...env,
        GATEHOUSE_PORT: '0',
        GATEHOUSE_HOST: '127.0.0.1',
        GATEHOUSE_PUBLIC_URL: 'http://127.0.0.1:8080',
        GATEHOUSE_LOG_LEVEL: 'silent',
      });
      database = openDb(testDatabase.config, silentLogger);
    });
    after(async () => {
      await server?.stop();
      await database?.close();
      await testDatabase?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const gatehouse = (args: string[], stdin?: string) => runGatehouse(args, { env, stdin });
    const userByEmail = (email: string) =>
      database.db.selectFrom('users').select('id').where('email_normalized', '=', email).executeTakeFirst();

    it('prints the new admin’s API key once, on its own line after the usual one, with a note on stderr', async () => {
      const run = await gatehouse(
        ['admin', 'create', '--email', 'root@acme.example', '--org', 'acme', '--api-key', 'terraform'],
        `${TEST_PASSWORD}\n`,
      );
      assert.equal(run.code, 0, run.stderr);
      const [summary, token, ...rest] = linesOf(run.stdout);
      assert.equal(summary, 'root@acme.example is an admin of acme (new user) (new org)');
      assert.match(token ?? '', API_KEY_FORMAT);
      assert.deepEqual(rest, []);
      const notes = linesOf(run.stderr);
      assert.equal(notes.length, 1, run.stderr);
      assert.match(notes[0]!, /"terraform".*shown only once/);
      assert.ok(!run.stderr.includes(token!), 'the key itself is on stdout only');
      bootstrapToken = token!;
    });

    it('the printed key passes forward auth as the admin of that org on a server already running', async () => {
      const response = await fetch(`${server.url}/v1/authz/check?permission=members:write`, {
        headers: { authorization: `Bearer ${bootstrapToken}` },
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(response.status, 200, await response.text());
      assert.equal(response.headers.get('x-gatehouse-org-slug'), 'acme');
      assert.equal(response.headers.get('x-gatehouse-role'), 'admin');
      assert.equal(response.headers.get('x-gatehouse-auth-method'), 'api_key');
      assert.equal(response.headers.get('x-gatehouse-user'), (await userByEmail('root@acme.example'))?.id);
    });

    it('configures the org over /v1 with that key alone: a service account, its key, and work done with it', async () => {
      const admin = { bearer: bootstrapToken };
      const account = await callV1<{ id: string }>(server.url, admin, 'POST', '/orgs/acme/service-accounts', {
        name: 'ci runner',
        role: 'user',
      });
      assert.equal(account.status, 201, JSON.stringify(account.body));
      const key = await callV1<{ token: string; owner: { kind: string; id: string } }>(
        server.url,
        admin,
        'POST',
        '/orgs/acme/api-keys',
        { name: 'ci runner key', service_account_id: account.body.id },
      );
      assert.equal(key.status, 201, JSON.stringify(key.body));
      assert.deepEqual(key.body.owner, { kind: 'service_account', id: account.body.id });

      const runner = { bearer: key.body.token };
      const checked = await callV1(server.url, runner, 'GET', '/authz/check');
      assert.equal(checked.status, 200);
      assert.equal(checked.headers.get('x-gatehouse-principal-kind'), 'service_account');
      assert.equal(checked.headers.get('x-gatehouse-role'), 'user');
      const project = await callV1(server.url, runner, 'POST', '/orgs/acme/projects', { name: 'evals' });
      assert.equal(project.status, 201, JSON.stringify(project.body));
      const listed = await callV1<{ data: { name: string }[] }>(
        server.url,
        runner,
        'GET',
        '/orgs/acme/projects',
      );
      assert.deepEqual(
        listed.body.data.map((p) => p.name),
        ['evals'],
      );
      const notAdmin = await callV1(server.url, runner, 'GET', '/authz/check?permission=members:write');
      assert.equal(notAdmin.status, 403, 'the service account has its own role, not the admin’s');
    });

    it('with --json adds api_key with the id, name and token, and prints nothing else on stdout', async () => {
      const run = await gatehouse(
        ['--json', 'admin', 'create', '--email', 'ops@beta.example', '--org', 'beta', '--api-key', 'ansible'],
        `${TEST_PASSWORD}\n`,
      );
      assert.equal(run.code, 0, run.stderr);
      assert.equal(linesOf(run.stdout).length, 1, run.stdout);
      beta = JSON.parse(run.stdout) as AdminCreatedWithKey;
      assert.deepEqual(Object.keys(beta).sort(), [
        'api_key',
        'created_org',
        'created_user',
        'org_id',
        'user_id',
      ]);
      assert.deepEqual(Object.keys(beta.api_key!).sort(), ['id', 'name', 'token']);
      assert.match(beta.api_key!.id, /^key_[0-9a-z]{26}$/);
      assert.equal(beta.api_key!.name, 'ansible');
      assert.match(beta.api_key!.token, API_KEY_FORMAT);
      const row = await database.db
        .selectFrom('api_keys')
        .select(['user_id', 'service_account_id', 'org_id', 'created_by', 'name', 'read_only', 'expires_at'])
        .where('id', '=', beta.api_key!.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(row, {
        user_id: beta.user_id,
        service_account_id: null,
        org_id: beta.org_id,
        created_by: beta.user_id,
        name: 'ansible',
        read_only: 0,
        expires_at: null,
      });
      const checked = await callV1(server.url, { bearer: beta.api_key!.token }, 'GET', '/authz/check');
      assert.equal(checked.headers.get('x-gatehouse-org-slug'), 'beta');
    });

    it('records api_key.created by the new admin in the org’s audit chain, which still verifies', async () => {
      const events = await database.db
        .selectFrom('audit_events')
        .select(['action', 'actor_kind', 'actor_id', 'target_id', 'data_json'])
        .where('org_id', '=', beta.org_id)
        .orderBy('seq')
        .execute();
      const actions = events.map((e) => e.action);
      assert.ok(actions.includes('admin.created_by_cli'), actions.join(', '));
      const created = events.filter((e) => e.action === 'api_key.created');
      assert.equal(created.length, 1, actions.join(', '));
      assert.equal(created[0]!.actor_kind, 'user');
      assert.equal(created[0]!.actor_id, beta.user_id);
      assert.equal(created[0]!.target_id, beta.api_key!.id);
      const data = JSON.parse(created[0]!.data_json) as { name: string; owner: { kind: string; id: string } };
      assert.equal(data.name, 'ansible');
      assert.deepEqual(data.owner, { kind: 'user', id: beta.user_id });
      assert.ok(!created[0]!.data_json.includes(beta.api_key!.token), 'the secret is not in the audit log');
      const verified = await gatehouse(['audit', 'verify', '--org', 'beta']);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    });

    it('gives an existing admin a new key with a 200-character name without asking for a password', async () => {
      const name = 'k'.repeat(200);
      const run = await gatehouse([
        'admin',
        'create',
        '--email',
        'root@acme.example',
        '--org',
        'acme',
        '--api-key',
        name,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const [summary, token] = linesOf(run.stdout);
      assert.equal(summary, 'root@acme.example is an admin of acme');
      assert.notEqual(token, bootstrapToken);
      const checked = await callV1(server.url, { bearer: token! }, 'GET', '/authz/check');
      assert.equal(checked.status, 200);
      // Without --api-key, no key is made and the JSON has no api_key.
      const plain = await gatehouse([
        '--json',
        'admin',
        'create',
        '--email',
        'root@acme.example',
        '--org',
        'gamma',
      ]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal('api_key' in (JSON.parse(plain.stdout) as AdminCreatedWithKey), false);
    });

    it('refuses an empty, blank or over-long key name with exit 2 naming --api-key, and creates nothing', async () => {
      const names = ['', '   ', 'x'.repeat(201)];
      // One at a time: each run starts node and tsx, and a burst of starts slows the timed
      // CLI tests that run beside this file.
      const runs: GatehouseRun[] = [];
      for (const [i, name] of names.entries())
        runs.push(
          await gatehouse(
            ['admin', 'create', '--email', `bad${i}@acme.example`, '--org', `bad${i}`, '--api-key', name],
            `${TEST_PASSWORD}\n`,
          ),
        );
      assertUsageError(runs[0]!, /^gatehouse: --api-key: .*empty/);
      assertUsageError(runs[1]!, /^gatehouse: --api-key: .*empty/);
      assertUsageError(runs[2]!, /^gatehouse: --api-key: .*at most 200 characters/);
      for (const i of names.keys()) assert.equal(await userByEmail(`bad${i}@acme.example`), undefined);
    });

    it('creates neither the admin nor the org when the key cannot be stored', async () => {
      const restore = await refuseApiKeyInserts(database, kind);
      let run: GatehouseRun;
      try {
        run = await gatehouse(
          ['admin', 'create', '--email', 'half@delta.example', '--org', 'delta', '--api-key', 'ci'],
          `${TEST_PASSWORD}\n`,
        );
      } finally {
        await restore();
      }
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /refused by a test trigger/);
      assert.equal(run.stdout, '');
      assert.equal(await userByEmail('half@delta.example'), undefined);
      const org = await database.db
        .selectFrom('orgs')
        .select('id')
        .where('slug', '=', 'delta')
        .executeTakeFirst();
      assert.equal(org, undefined);
    });
  });
}

describe('gatehouse admin create --api-key: help', () => {
  it('documents --api-key NAME on admin create and keeps the global --api-key for client commands', async () => {
    const [command, program] = await Promise.all([
      runGatehouse(['admin', 'create', '--help']),
      runGatehouse(['--help']),
    ]);
    assert.equal(command.code, 0, command.stderr);
    assert.match(command.stdout, /--api-key NAME/);
    assert.equal(program.code, 0, program.stderr);
    assert.match(program.stdout, /--api-key \[key\]\s+authenticate with an API key instead of a profile/);
  });
});
