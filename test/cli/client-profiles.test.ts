// The CLI's one resolution rule (SPEC §9) and its config file, against a live Gatehouse: the
// credential from --api-key > GATEHOUSE_API_KEY > --profile / GATEHOUSE_PROFILE > the default
// profile, org and project likewise, every missing or conflicting value an error naming what
// to set; a corrupt or unknown config file refused and left untouched; and the hidden key
// prompt typed into through a real terminal.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  assertExit,
  type CliMachine,
  cliMachine,
  createApiKeyAs,
  type LiveGatehouse,
  ORG,
  startLiveGatehouse,
} from '../helpers/cli-client.ts';
import { callV1 } from '../helpers/http-client.ts';
import { openTerminal, terminalTier } from '../helpers/terminal.ts';

const BETA = 'beta';

/** Which org a run's credential reaches: API keys are bound to one. */
function orgOf(stdout: string): string[] {
  return (JSON.parse(stdout) as { data: { slug: string }[] }).data.map((o) => o.slug);
}

describe('the gatehouse CLI resolution rule and config file', () => {
  let live: LiveGatehouse;
  let machine: CliMachine;
  let acmeKey: string;
  let betaKey: string;

  before(async () => {
    live = await startLiveGatehouse('sqlite');
    const created = await callV1(live.publicUrl, { session: live.admin }, 'POST', '/orgs', {
      slug: BETA,
      name: 'Beta',
    });
    assert.equal(created.status, 201);
    const project = await callV1(live.publicUrl, { session: live.admin }, 'POST', `/orgs/${ORG}/projects`, {
      name: 'p1',
    });
    assert.equal(project.status, 201);
    acmeKey = (await createApiKeyAs(live, 'acme laptop')).token;
    betaKey = (await createApiKeyAs(live, 'beta laptop', BETA)).token;
    machine = cliMachine();
    const a = await machine.run(
      ['auth', 'login', '--url', live.publicUrl, '--profile', 'a', '--api-key', '--project', 'p1'],
      {
        stdin: acmeKey,
      },
    );
    assertExit(a, 0);
    const b = await machine.run(['auth', 'login', '--url', live.publicUrl, '--profile', 'b', '--api-key'], {
      stdin: betaKey,
    });
    assertExit(b, 0);
  });
  after(async () => {
    machine?.remove();
    await live?.stop();
  });

  it('takes the credential from --api-key, then GATEHOUSE_API_KEY, then --profile, then GATEHOUSE_PROFILE, then the default', async () => {
    assert.equal(machine.config().default_profile, 'a', 'the first profile became the default');
    const url = live.publicUrl;
    const [byDefault, byEnvProfile, byFlagProfile, byEnvKey, byFlagKey] = await Promise.all([
      machine.run(['orgs', 'list', '--json']),
      machine.run(['orgs', 'list', '--json'], { env: { GATEHOUSE_PROFILE: 'b' } }),
      machine.run(['orgs', 'list', '--json', '--profile', 'a'], { env: { GATEHOUSE_PROFILE: 'b' } }),
      machine.run(['orgs', 'list', '--json', '--profile', 'a'], { env: { GATEHOUSE_API_KEY: betaKey } }),
      machine.run(['orgs', 'list', '--json', '--url', url, '--api-key', acmeKey], {
        env: { GATEHOUSE_API_KEY: betaKey },
      }),
    ]);
    for (const run of [byDefault, byEnvProfile, byFlagProfile, byEnvKey, byFlagKey]) assertExit(run, 0);
    assert.deepEqual(orgOf(byDefault.stdout), [ORG]);
    assert.deepEqual(orgOf(byEnvProfile.stdout), [BETA]);
    assert.deepEqual(orgOf(byFlagProfile.stdout), [ORG]);
    assert.deepEqual(orgOf(byEnvKey.stdout), [BETA]);
    assert.deepEqual(orgOf(byFlagKey.stdout), [ORG]);
  });

  it('takes the org from --org, then GATEHOUSE_ORG, then the profile', async () => {
    const [fromProfile, envWins, flagWins] = await Promise.all([
      machine.run(['projects', 'list', '--json']),
      machine.run(['projects', 'list', '--json'], { env: { GATEHOUSE_ORG: BETA } }),
      machine.run(['projects', 'list', '--json', '--org', ORG], { env: { GATEHOUSE_ORG: BETA } }),
    ]);
    assertExit(fromProfile, 0);
    assert.deepEqual(
      (JSON.parse(fromProfile.stdout) as { data: { name: string }[] }).data.map((p) => p.name),
      ['p1'],
    );
    // The acme key reaches only acme: asking for beta is the server's refusal, which proves the
    // variable was used over the profile's org.
    assertExit(envWins, 1);
    assert.match(envWins.stderr, /\(credential_org_mismatch, field org\)/);
    assertExit(flagWins, 0);
    assert.equal(flagWins.stdout, fromProfile.stdout);
  });

  it('takes the project from --project, then GATEHOUSE_PROJECT, then the profile', async () => {
    const status = (run: { stdout: string }) =>
      (JSON.parse(run.stdout) as { project: string | null }).project;
    const [fromProfile, fromEnv, fromFlag] = await Promise.all([
      machine.run(['auth', 'status', '--json']),
      machine.run(['auth', 'status', '--json'], { env: { GATEHOUSE_PROJECT: 'from-env' } }),
      machine.run(['auth', 'status', '--json', '--project', 'from-flag'], {
        env: { GATEHOUSE_PROJECT: 'from-env' },
      }),
    ]);
    assert.deepEqual(
      [status(fromProfile), status(fromEnv), status(fromFlag)],
      ['p1', 'from-env', 'from-flag'],
    );
  });

  it('refuses to guess: each missing or conflicting value is an error naming what to set', async () => {
    const [keyWithoutUrl, otherUrl, unknownProfile, badName, emptyKey, replacing, keyAndDevice] =
      await Promise.all([
        // A default profile exists, but a key from the environment is not sent to its server.
        machine.run(['whoami'], { env: { GATEHOUSE_API_KEY: acmeKey } }),
        machine.run(['whoami', '--url', 'http://localhost:1']),
        machine.run(['whoami', '--profile', 'nope']),
        machine.run(['auth', 'login', '--url', live.publicUrl, '--profile', '../etc', '--api-key', acmeKey]),
        machine.run(['whoami', '--url', live.publicUrl, '--api-key=']),
        // The default profile "a" is for this server: another server needs a profile of its own.
        machine.run(['auth', 'login', '--url', 'http://localhost:1', '--api-key', acmeKey]),
        machine.run(['auth', 'login', '--url', live.publicUrl, '--device', '--api-key', acmeKey]),
      ]);
    assertExit(emptyKey, 2);
    assert.match(emptyKey.stderr, /no API key was given/);
    assertExit(replacing, 2);
    assert.match(
      replacing.stderr,
      /the default profile "a" is for http:\/\/127\.0\.0\.1:\d+; to sign in to http:\/\/localhost:1, name a profile for it with --profile/,
    );
    assertExit(keyAndDevice, 2);
    assert.match(keyAndDevice.stderr, /does not go with --device/);
    assertExit(keyWithoutUrl, 2);
    assert.match(keyWithoutUrl.stderr, /GATEHOUSE_API_KEY needs the server: pass --url or set GATEHOUSE_URL/);
    assertExit(otherUrl, 2);
    assert.match(otherUrl.stderr, /--url is http:\/\/localhost:1, but profile "a" is for/);
    assertExit(unknownProfile, 3);
    assert.match(unknownProfile.stderr, /no profile named "nope" \(from --profile\)/);
    assertExit(badName, 2);
    assert.match(badName.stderr, /--profile must be/);
  });

  it('lists profiles, switches the default, and asks which one once the default is gone', async () => {
    const used = await machine.run(['auth', 'profiles', 'use', 'b']);
    assertExit(used, 0);
    const listed = await machine.run(['auth', 'profiles']);
    assertExit(listed, 0);
    assert.match(listed.stdout, /^\* +b \(default\) +http/m);
    assert.match(listed.stdout, /^ +a +http\S+ +api_key/m);
    const missing = await machine.run(['auth', 'profiles', 'use', 'zz']);
    assertExit(missing, 2);

    const out = await machine.run(['auth', 'logout']);
    assertExit(out, 0);
    assert.match(out.stdout, /Profile "b" forgotten; the API key itself still works/);
    const noDefault = await machine.run(['whoami']);
    assertExit(noDefault, 2);
    assert.match(
      noDefault.stderr,
      /no default profile: pass --profile or set GATEHOUSE_PROFILE \(profiles: a\)/,
    );
    const stillA = await machine.run(['whoami', '--profile', 'a']);
    assertExit(stillA, 0);
    const all = await machine.run(['auth', 'logout', '--all', '--json']);
    assertExit(all, 0);
    assert.deepEqual(JSON.parse(all.stdout), { signed_out: [{ profile: 'a', outcome: 'api_key' }] });
    assert.deepEqual(machine.config().profiles, {});
  });

  it('refuses a corrupt config file or one of another version, and leaves it as it was', async () => {
    const other = cliMachine();
    try {
      mkdirSync(other.configDir, { recursive: true, mode: 0o700 });
      const cases = [
        { text: '{"version": 1, "profiles": {', said: /is not valid JSON; it was left as it is/ },
        {
          text: '{"version": 2, "profiles": {}, "clients": {}}',
          said: /has version 2, and this gatehouse reads version 1/,
        },
        {
          text: '{"version": 1, "profiles": {"x": {"url": 5}}, "clients": {}}',
          said: /is not a valid gatehouse configuration \(profiles\.x\.url/,
        },
      ];
      for (const { text, said } of cases) {
        writeFileSync(other.configPath, text, { mode: 0o600 });
        const [status, login] = await Promise.all([
          other.run(['auth', 'status']),
          other.run(['auth', 'login', '--url', live.publicUrl, '--api-key'], { stdin: acmeKey }),
        ]);
        for (const run of [status, login]) {
          assertExit(run, 1);
          assert.match(run.stderr, new RegExp(other.configPath.replaceAll('/', '\\/')));
          assert.match(run.stderr, said);
        }
        assert.equal(readFileSync(other.configPath, 'utf8'), text, 'never overwritten');
      }
    } finally {
      other.remove();
    }
  });

  it('reads a key typed at a real terminal without echoing it', terminalTier(), async () => {
    const other = cliMachine();
    const terminal = await openTerminal(
      [process.execPath, 'bin/gatehouse.mjs', 'auth', 'login', '--url', live.publicUrl, '--api-key'],
      { HOME: other.configDir, XDG_CONFIG_HOME: other.configDir.replace(/\/gatehouse$/, ''), NO_COLOR: '1' },
    );
    try {
      await terminal.waitFor(/API key: /);
      await terminal.typeLine(acmeKey);
      const screen = await terminal.waitFor(/\[exit \d+\]/);
      assert.match(screen, /\[exit 0\]/, screen);
      assert.match(screen, /Signed in to .* \(profile "default", the default; org acme\)/);
      assert.doesNotMatch(screen, new RegExp(acmeKey.slice(3, 20)), 'the key never appears on the screen');
      assert.equal(other.config().profiles.default?.credential.api_key, acmeKey);
      assert.equal(statSync(other.configPath).mode & 0o777, 0o600);
    } finally {
      await terminal.close();
      other.remove();
    }
  });
});
