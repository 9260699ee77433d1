// The CLI with an API key against a live Gatehouse (SPEC §9): `auth login --api-key` reading
// the key from stdin and checking it before saving it, the everyday commands on top (whoami,
// orgs, projects, keys) in human and --json form, and the exit codes.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_EMAIL,
  assertExit,
  type CliMachine,
  cliMachine,
  createApiKeyAs,
  type LiveGatehouse,
  ORG,
  startLiveGatehouse,
} from '../helpers/cli-client.ts';
import { freePort } from '../helpers/process.ts';

describe('the gatehouse CLI signed in with an API key', () => {
  let live: LiveGatehouse;
  let machine: CliMachine;
  let key: { id: string; token: string };

  before(async () => {
    live = await startLiveGatehouse('sqlite');
    machine = cliMachine();
    key = await createApiKeyAs(live, 'laptop');
  });
  after(async () => {
    machine?.remove();
    await live?.stop();
  });

  it('refuses a key the server does not accept, and saves nothing', async () => {
    const forged = `${key.token.slice(0, -10)}AAAAAAAAAA`;
    const run = await machine.run(['auth', 'login', '--url', live.publicUrl, '--api-key'], {
      stdin: `${forged}\n`,
    });
    assertExit(run, 3);
    assert.match(run.stderr, /refused/);
    assert.doesNotMatch(run.stderr + run.stdout, new RegExp(forged.slice(16)), 'the key is not echoed');
    assert.throws(() => statSync(machine.configPath), /ENOENT/, 'no config file was written');
  });

  it('reads the key from stdin, checks it, and saves a profile only its owner can read', async () => {
    const run = await machine.run(['auth', 'login', '--url', live.publicUrl, '--api-key', '--json'], {
      stdin: `${key.token}\n`,
    });
    assertExit(run, 0);
    const saved = JSON.parse(run.stdout) as { profile: string; method: string; org: string; email: string };
    assert.deepEqual(
      [saved.profile, saved.method, saved.org, saved.email],
      ['default', 'api_key', ORG, ADMIN_EMAIL],
    );
    assert.equal(statSync(machine.configPath).mode & 0o777, 0o600);
    assert.equal(statSync(machine.configDir).mode & 0o777, 0o700);
    const config = machine.config();
    assert.equal(config.version, 1);
    assert.equal(config.default_profile, 'default');
    assert.equal(config.profiles.default?.credential.api_key, key.token);
    assert.equal(config.profiles.default?.issuer, `${live.publicUrl}/oauth`);
  });

  it('answers whoami, orgs list and auth status from the saved key, without naming an org', async () => {
    const [whoami, orgs, status] = await Promise.all([
      machine.run(['whoami']),
      machine.run(['orgs', 'list', '--json']),
      machine.run(['auth', 'status']),
    ]);
    assertExit(whoami, 0);
    assert.match(whoami.stdout, new RegExp(ADMIN_EMAIL));
    assert.match(whoami.stdout, /\* acme \(admin\)/);
    assertExit(orgs, 0);
    assert.deepEqual(
      (JSON.parse(orgs.stdout) as { data: { slug: string }[] }).data.map((o) => o.slug),
      [ORG],
    );
    assertExit(status, 0);
    assert.match(status.stdout, /Method: +API key/);
    assert.match(status.stdout, /Org: +acme/);
    assert.match(status.stdout, new RegExp(`Server: +${live.publicUrl}`));
  });

  it('creates and lists projects in the org', async () => {
    const created = await machine.run([
      'projects',
      'create',
      'inference',
      '--description',
      'the model gateway',
      '--json',
    ]);
    assertExit(created, 0);
    const project = JSON.parse(created.stdout) as { id: string; name: string };
    assert.equal(project.name, 'inference');
    const listed = await machine.run(['projects', 'list']);
    assertExit(listed, 0);
    assert.match(listed.stdout, /NAME +ID/);
    assert.match(listed.stdout, new RegExp(`inference +${project.id}`));
    const duplicate = await machine.run(['projects', 'create', 'inference']);
    assertExit(duplicate, 1);
    assert.match(duplicate.stderr, /gatehouse: .*\(\w+/, 'the server’s code is named');
  });

  it('creates a key shown once on stdout alone, lists it, and revokes it so it stops working', async () => {
    const created = await machine.run(['keys', 'create', 'ci-runner', '--read-only']);
    assertExit(created, 0);
    const token = created.stdout.trim();
    assert.match(token, /^gk_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/, 'stdout holds only the key');
    assert.match(created.stderr, /shown this once/);
    const listed = await machine.run(['keys', 'list', '--json']);
    assertExit(listed, 0);
    const entry = (
      JSON.parse(listed.stdout) as { data: { id: string; name: string; read_only: boolean }[] }
    ).data.find((k) => k.name === 'ci-runner');
    assert.ok(entry, 'the new key is listed');
    assert.equal(entry.read_only, true);
    assert.doesNotMatch(listed.stdout, new RegExp(token.slice(16)), 'a listing never holds a secret');

    const withNewKey = await machine.run(['whoami', '--url', live.publicUrl], {
      env: { GATEHOUSE_API_KEY: token },
    });
    assertExit(withNewKey, 0);
    const revoked = await machine.run(['keys', 'revoke', entry.id]);
    assertExit(revoked, 0);
    const afterRevoke = await machine.run(['whoami', '--url', live.publicUrl], {
      env: { GATEHOUSE_API_KEY: token },
    });
    assertExit(afterRevoke, 3);
    assert.match(afterRevoke.stderr, /refused the credential from GATEHOUSE_API_KEY/);
  });

  it('exits 2 on a usage error, 1 on a server that cannot be reached', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const [unknown, badTime, unreachable, notHttps] = await Promise.all([
      machine.run(['projects', 'list', '--bogus']),
      machine.run(['keys', 'create', 'x', '--expires-at', 'next tuesday']),
      machine.run(['whoami', '--url', closed, '--api-key', key.token]),
      machine.run(['auth', 'login', '--url', 'http://gatehouse.example', '--api-key', key.token]),
    ]);
    assertExit(unknown, 2);
    assertExit(badTime, 2);
    assert.match(badTime.stderr, /--expires-at/);
    assertExit(unreachable, 1);
    assert.equal(unreachable.stderr, `gatehouse: cannot reach ${closed}: ECONNREFUSED\n`);
    assertExit(notHttps, 2);
    assert.match(notHttps.stderr, /only over https/);
  });
});
