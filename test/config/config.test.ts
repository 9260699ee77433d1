import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, configWarnings, loadConfig } from '../../src/config.ts';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { linesOf, runGatehouse } from '../helpers/process.ts';

const SECRET = 'secretpw';
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** Each invalid setting, the variable the error must name first, and the value it must not echo. */
const invalidSettings: { name: string; env: Record<string, string>; variable: string }[] = [
  { name: 'a port that is not a number', env: { GATEHOUSE_PORT: 'abc' }, variable: 'GATEHOUSE_PORT' },
  { name: 'a port out of range', env: { GATEHOUSE_PORT: '70000' }, variable: 'GATEHOUSE_PORT' },
  {
    name: 'a public URL that is not http',
    env: { GATEHOUSE_PUBLIC_URL: 'ftp://x' },
    variable: 'GATEHOUSE_PUBLIC_URL',
  },
  {
    name: 'a public URL carrying credentials',
    env: { GATEHOUSE_PUBLIC_URL: `https://admin:${SECRET}@id.example` },
    variable: 'GATEHOUSE_PUBLIC_URL',
  },
  {
    name: 'an unparseable public URL carrying credentials',
    env: { GATEHOUSE_PUBLIC_URL: `https://admin:${SECRET}@[id.example` },
    variable: 'GATEHOUSE_PUBLIC_URL',
  },
  {
    name: 'a database URL of an unsupported kind',
    env: { GATEHOUSE_DATABASE_URL: `mysql://u:${SECRET}@h/db` },
    variable: 'GATEHOUSE_DATABASE_URL',
  },
  {
    name: 'a malformed postgres URL',
    env: {
      GATEHOUSE_DATABASE_URL: `postgres://u:${SECRET}@[h/db`,
      GATEHOUSE_SECRET_KEY: generateMasterKey(),
    },
    variable: 'GATEHOUSE_DATABASE_URL',
  },
  {
    name: 'a secret key that is not 32 bytes of base64',
    env: { GATEHOUSE_SECRET_KEY: 'short' },
    variable: 'GATEHOUSE_SECRET_KEY',
  },
  {
    name: 'a secret key that is long but not 32 bytes',
    env: { GATEHOUSE_SECRET_KEY: Buffer.from(`${SECRET}${SECRET}`).toString('base64') },
    variable: 'GATEHOUSE_SECRET_KEY',
  },
  {
    name: 'both a secret key and a secret key file',
    env: { GATEHOUSE_SECRET_KEY: generateMasterKey(), GATEHOUSE_SECRET_KEY_FILE: '/nonexistent/key' },
    variable: 'GATEHOUSE_SECRET_KEY',
  },
  {
    name: 'a secret key file that cannot be read',
    env: { GATEHOUSE_SECRET_KEY_FILE: '/nonexistent/gatehouse.key' },
    variable: 'GATEHOUSE_SECRET_KEY_FILE',
  },
  { name: 'an unknown log level', env: { GATEHOUSE_LOG_LEVEL: 'loud' }, variable: 'GATEHOUSE_LOG_LEVEL' },
  {
    name: 'PostgreSQL without a secret key',
    env: { GATEHOUSE_DATABASE_URL: `postgres://u:${SECRET}@h/db` },
    variable: 'GATEHOUSE_SECRET_KEY',
  },
  {
    name: 'a pool size of zero',
    env: {
      GATEHOUSE_DATABASE_URL: `postgres://u:${SECRET}@h/db`,
      GATEHOUSE_SECRET_KEY: generateMasterKey(),
      GATEHOUSE_DATABASE_POOL_SIZE: '0',
    },
    variable: 'GATEHOUSE_DATABASE_POOL_SIZE',
  },
  {
    name: 'a body limit below 1 KiB',
    env: { GATEHOUSE_BODY_LIMIT_BYTES: '10' },
    variable: 'GATEHOUSE_BODY_LIMIT_BYTES',
  },
  {
    name: 'a proxy that is not an address',
    env: { GATEHOUSE_TRUST_PROXY: 'proxy.internal' },
    variable: 'GATEHOUSE_TRUST_PROXY',
  },
  {
    name: 'a client metadata host that is a URL',
    env: { GATEHOUSE_OAUTH_CLIENT_METADATA_HOSTS: 'claude.ai, https://evil.example/' },
    variable: 'GATEHOUSE_OAUTH_CLIENT_METADATA_HOSTS',
  },
  {
    name: 'a pinned client metadata file that does not exist',
    env: { GATEHOUSE_OAUTH_CLIENT_METADATA_PINNED: '/nonexistent/clients.json' },
    variable: 'GATEHOUSE_OAUTH_CLIENT_METADATA_PINNED',
  },
  {
    name: 'an insecure client metadata setting that is not a boolean',
    env: { GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE: 'yes' },
    variable: 'GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE',
  },
];

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ GATEHOUSE_DATA_DIR: dataDir, ...env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('configuration', () => {
  for (const setting of invalidSettings) {
    it(`refuses ${setting.name} with one line that starts with ${setting.variable} and echoes no secret`, () => {
      const error = configError(setting.env);
      assert.equal(error.variable, setting.variable);
      assert.ok(
        error.message.startsWith(`${setting.variable}: `),
        `"${error.message}" should start with ${setting.variable}`,
      );
      assert.doesNotMatch(error.message, /[\r\n]/);
      assert.ok(error.message.length > `${setting.variable}: `.length + 5, 'says what is wrong');
      assert.ok(!error.message.includes(SECRET), `"${error.message}" echoes the secret`);
      const key = setting.env.GATEHOUSE_SECRET_KEY;
      if (key) assert.ok(!error.message.includes(key), `"${error.message}" echoes the secret key`);
    });
  }

  it('reads pinned client metadata documents by client_id, refuses a file of another shape, and warns of the insecure setting', () => {
    const file = join(dataDir, 'pinned-clients.json');
    const document = {
      client_id: 'https://client.example/oauth.json',
      client_name: 'Pinned',
      redirect_uris: ['http://127.0.0.1/cb'],
    };
    writeFileSync(file, JSON.stringify([document]));
    const config = loadConfig({
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_OAUTH_CLIENT_METADATA_PINNED: file,
      GATEHOUSE_OAUTH_CLIENT_METADATA_HOSTS: 'Claude.ai,*.vscode.dev',
    });
    assert.deepEqual(config.oauthClientMetadata.pinned.get(document.client_id), document);
    assert.deepEqual(config.oauthClientMetadata.allowedHosts, ['claude.ai', '*.vscode.dev']);
    assert.equal(config.oauthClientMetadata.allowInsecure, false);
    assert.ok(!configWarnings(config).some((w) => w.includes('CLIENT_METADATA')));
    writeFileSync(file, JSON.stringify({ client_id: document.client_id }));
    const error = configError({ GATEHOUSE_OAUTH_CLIENT_METADATA_PINNED: file });
    assert.equal(error.variable, 'GATEHOUSE_OAUTH_CLIENT_METADATA_PINNED');
    const insecure = loadConfig({
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE: 'true',
    });
    assert.ok(
      configWarnings(insecure).some((w) => w.startsWith('GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE is on')),
    );
  });

  it('accepts the defaults on a fresh machine: embedded SQLite in the data dir and a generated key', () => {
    const config = loadConfig({ GATEHOUSE_DATA_DIR: dataDir });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.publicUrl, 'http://localhost:8080');
    assert.deepEqual(config.database, { kind: 'sqlite', path: join(dataDir, 'gatehouse.db') });
    assert.deepEqual(config.masterKey, { kind: 'data_dir_file', path: join(dataDir, 'secret.key') });
    assert.equal(config.logLevel, 'info');
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.database));
  });

  it('accepts PostgreSQL with a key, and a public URL without its trailing slash', () => {
    const config = loadConfig({
      GATEHOUSE_DATABASE_URL: 'postgres://gh@db.internal/gatehouse',
      GATEHOUSE_SECRET_KEY: generateMasterKey(),
      GATEHOUSE_PUBLIC_URL: 'https://id.example/',
      GATEHOUSE_PORT: '0',
    });
    assert.equal(config.database.kind, 'postgres');
    assert.equal(config.masterKey.kind, 'provided');
    assert.equal(config.publicUrl, 'https://id.example');
    assert.equal(config.secureCookies, true);
    assert.equal(config.port, 0);
  });
});

describe('gatehouse serve with invalid configuration', () => {
  it('exits 1 with exactly one stderr line naming GATEHOUSE_PORT when the port is not a number', async () => {
    const run = await runGatehouse(['serve'], {
      env: { GATEHOUSE_PORT: 'abc', GATEHOUSE_DATA_DIR: dataDir },
      timeoutMs: 15_000,
    });
    assert.equal(run.code, 1, run.stderr);
    const lines = linesOf(run.stderr);
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /GATEHOUSE_PORT/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(run.stdout, '', 'nothing started: no setup link, no logs');
  });

  it('never echoes the database password when the database URL is refused', async () => {
    const run = await runGatehouse(['serve'], {
      env: { GATEHOUSE_DATABASE_URL: `mysql://u:${SECRET}@h/db`, GATEHOUSE_DATA_DIR: dataDir },
      timeoutMs: 15_000,
    });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(
      linesOf(run.stderr).map((line) => line.includes('GATEHOUSE_DATABASE_URL')),
      [true],
      run.stderr,
    );
    assert.ok(!`${run.stdout}${run.stderr}`.includes(SECRET));
  });
});
