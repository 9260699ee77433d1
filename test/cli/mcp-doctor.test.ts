// `gatehouse mcp doctor URL` (SPEC §4, §9), run as the real command: against a live
// Gatehouse every step passes; against small servers that each get one thing wrong, the run
// fails (or warns) at exactly that step, after the earlier ones passed; tokens are checked
// and never printed; bad usage exits 2 with one line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createProbe } from '../../src/cli/mcp-doctor/index.ts';
import { systemClock } from '../../src/core/clock.ts';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type DbHandle, openDb } from '../../src/db/index.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { createOauthAdapter } from '../../src/oauth/adapter.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { silentLogger } from '../helpers/logger.ts';
import { freePort, type GatehouseRun, linesOf, runGatehouse } from '../helpers/process.ts';
import { type FakeFaults, type FakeMcpServer, startFakeMcpServer } from './fake-mcp-server.ts';

type Status = 'pass' | 'fail' | 'warn' | 'skip';
interface Step {
  step: string;
  status: Status;
  detail: string;
  urls?: { method: string; url: string; status?: number; note?: string }[];
}
interface Report {
  url: string;
  steps: Step[];
  ok: boolean;
}

const STEPS = [
  'challenge',
  'resource-metadata',
  'auth-server-metadata',
  'cors',
  'registration',
  'token-audience',
] as const;

async function doctorJson(url: string, ...extra: string[]): Promise<{ run: GatehouseRun; report: Report }> {
  const run = await runGatehouse(['mcp', 'doctor', url, '--json', ...extra]);
  assert.equal(run.stderr, '', 'nothing on stderr');
  return { run, report: JSON.parse(run.stdout) as Report };
}

function stepOf(report: Report, name: string): Step {
  const found = report.steps.find((step) => step.step === name);
  assert.ok(found, `step ${name} reported`);
  return found;
}

/** Every step is reported once, in order. */
function assertAllSteps(report: Report): void {
  assert.deepEqual(
    report.steps.map((step) => step.step),
    [...STEPS],
  );
}

/**
 * The run stops at `step` with `status` and a detail matching `pattern`: every earlier step
 * passed (or is in `earlierWarnings`), and the exit code says whether the run failed.
 */
function assertStopsAt(
  run: GatehouseRun,
  report: Report,
  step: (typeof STEPS)[number],
  status: 'fail' | 'warn',
  pattern: RegExp,
): void {
  assertAllSteps(report);
  const index = STEPS.indexOf(step);
  for (const earlier of report.steps.slice(0, index))
    assert.equal(earlier.status, 'pass', `${earlier.step} passes before ${step}: ${earlier.detail}`);
  const reached = stepOf(report, step);
  assert.equal(reached.status, status, reached.detail);
  assert.match(reached.detail, pattern);
  assert.equal(report.ok, status !== 'fail');
  assert.equal(run.code, status === 'fail' ? 1 : 0, run.stdout);
}

describe('gatehouse mcp doctor against a live Gatehouse', () => {
  let testDatabase: TestDatabase;
  let database: DbHandle;
  let server: RunningServer;
  let dataDir: string;
  let base: string;
  const secretKey = generateMasterKey();

  before(async () => {
    testDatabase = await createTestDatabase('sqlite');
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-doctor-'));
    // The documents name GATEHOUSE_PUBLIC_URL: it must be the address the server really listens on.
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startServer({
      GATEHOUSE_DATABASE_URL: testDatabase.url,
      GATEHOUSE_SECRET_KEY: secretKey,
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_PUBLIC_URL: base,
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

  it('passes every step of its own /mcp, skips the token step and exits 0', async () => {
    const run = await runGatehouse(['mcp', 'doctor', `${base}/mcp`]);
    assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
    assert.equal(run.stderr, '');
    const lines = linesOf(run.stdout);
    const statusOf = (step: string) =>
      lines.find((line) => line.slice(6).startsWith(`${step} `))?.slice(0, 4);
    for (const step of ['challenge', 'resource-metadata', 'auth-server-metadata', 'registration'])
      assert.equal(statusOf(step), 'pass', run.stdout);
    assert.equal(statusOf('token-audience'), 'skip', run.stdout);
    assert.match(
      run.stdout,
      new RegExp(
        `^pass {2}challenge +401 with resource_metadata=${base}/\\.well-known/oauth-protected-resource/mcp$`,
        'm',
      ),
    );
    assert.match(run.stdout, /^skip {2}token-audience +no --token given: pass --token TOKEN/m);
    assert.match(run.stdout, /: no step failed/);
  });

  it('prints one JSON document with ok: true under --json', async () => {
    const { run, report } = await doctorJson(`${base}/mcp`);
    assert.equal(run.code, 0);
    assert.equal(report.ok, true);
    assert.equal(report.url, `${base}/mcp`);
    assertAllSteps(report);
    for (const step of ['challenge', 'resource-metadata', 'auth-server-metadata', 'registration'])
      assert.equal(stepOf(report, step).status, 'pass', stepOf(report, step).detail);
    assert.equal(stepOf(report, 'token-audience').status, 'skip');
    assert.match(stepOf(report, 'resource-metadata').detail, new RegExp(`resource ${base}/mcp,`));
    assert.match(stepOf(report, 'auth-server-metadata').detail, /issuer matches, PKCE S256/);
    assert.match(
      stepOf(report, 'registration').detail,
      /registered public client ".+" \(201, no client_secret\)/,
    );
    const cors = stepOf(report, 'cors');
    assert.equal(cors.status, 'pass', cors.detail);
    assert.match(
      cors.detail,
      /readable from another origin: protected-resource metadata, authorization-server metadata, token endpoint/,
    );
  });

  it('passes every step, the token one too, with a token of a service account’s OAuth client', async () => {
    const env = {
      GATEHOUSE_DATABASE_URL: testDatabase.url,
      GATEHOUSE_SECRET_KEY: secretKey,
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_PUBLIC_URL: base,
    };
    const created = await runGatehouse(
      ['admin', 'create', '--email', 'ops@doctor.example', '--org', 'doctor', '--api-key', 'ops', '--json'],
      { env, stdin: 'correct horse battery staple\n' },
    );
    assert.equal(created.code, 0, created.stderr);
    const apiKey = (JSON.parse(created.stdout) as { api_key: { token: string } }).api_key.token;
    const v1 = async (path: string, body: unknown) => {
      const res = await fetch(`${base}/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as Record<string, string>;
    };
    const account = await v1('/orgs/doctor/service-accounts', { name: 'agent', role: 'user' });
    const client = await v1(`/orgs/doctor/service-accounts/${account.id}/oauth-clients`, { name: 'agent' });
    const answer = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        resource: `${base}/mcp`,
        scope: 'org:read',
      }),
    });
    const { access_token: token } = (await answer.json()) as { access_token: string };
    assert.equal(answer.status, 200);
    const run = await runGatehouse(['mcp', 'doctor', `${base}/mcp`, '--json', '--token', '-'], {
      stdin: `${token}\n`,
    });
    assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), 'the token is never printed');
    const report = JSON.parse(run.stdout) as Report;
    for (const step of report.steps) assert.equal(step.status, 'pass', `${step.step}: ${step.detail}`);
    assert.equal(run.code, 0);
  });

  it('checks a real access token’s audience and signature, and reports the refusal of a token without a user', async () => {
    // A client-credentials token of a client that acts for nobody (no service account): aud,
    // iss and signature are right, but /mcp refuses it (access_token_without_user).
    const clientId = 'doctor-probe';
    const secret = 'a-long-random-client-secret-doctor';
    const Adapter = createOauthAdapter({ db: database.db, clock: systemClock });
    await new Adapter('Client').upsert(clientId, {
      client_id: clientId,
      client_secret: secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const answer = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${base}/mcp` }),
    });
    const { access_token: token } = (await answer.json()) as { access_token: string };
    assert.equal(answer.status, 200);

    const run = await runGatehouse(['mcp', 'doctor', `${base}/mcp`, '--json', '--token', '-'], {
      stdin: `${token}\n`,
    });
    assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), 'the token is never printed');
    const report = JSON.parse(run.stdout) as Report;
    const step = stepOf(report, 'token-audience');
    assert.equal(step.status, 'fail');
    assert.match(step.detail, /^initialize with the token answered 401, not 200: error "invalid_token"/);
    assert.match(step.detail, new RegExp(`aud "${base}/mcp", iss "${base}/oauth"`));
    assert.doesNotMatch(step.detail, /does not name|is not the authorization server/);
    assert.equal(run.code, 1);
  });
});

// Each test has its own server, so two run side by side (most of their time is the CLI
// starting); more would starve each other when the whole suite runs at once.
describe('gatehouse mcp doctor against misconfigured MCP servers', { concurrency: 2 }, () => {
  const servers: FakeMcpServer[] = [];
  const fake = async (faults: FakeFaults = {}) => {
    const server = await startFakeMcpServer(faults);
    servers.push(server);
    return server;
  };
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('passes a correctly configured server, registering the client MCP clients register', async () => {
    const server = await fake();
    const { run, report } = await doctorJson(server.mcpUrl);
    assertAllSteps(report);
    for (const step of report.steps.slice(0, 5))
      assert.equal(step.status, 'pass', `${step.step}: ${step.detail}`);
    assert.equal(run.code, 0);
    assert.equal(server.registrations.length, 1);
    const registration = server.registrations[0] as Record<string, unknown>;
    assert.equal(registration.client_name, 'gatehouse mcp doctor');
    assert.match((registration.redirect_uris as string[])[0]!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.deepEqual(registration.grant_types, ['authorization_code', 'refresh_token']);
    assert.deepEqual(registration.response_types, ['code']);
    assert.equal(registration.token_endpoint_auth_method, 'none');
  });

  it('fails at challenge when an unauthenticated initialize gets 200, and skips what needs it', async () => {
    const server = await fake({ challenge: 'none' });
    const { run, report } = await doctorJson(server.mcpUrl);
    assertStopsAt(run, report, 'challenge', 'fail', /answered 200 to an unauthenticated initialize/);
    assert.deepEqual(
      report.steps.slice(1).map((step) => [step.status, step.detail.split(':')[0]]),
      [
        ['skip', 'skipped'],
        ['skip', 'skipped'],
        ['skip', 'skipped'],
        ['skip', 'skipped'],
        ['skip', 'no --token given'],
      ],
    );
    assert.equal(stepOf(report, 'resource-metadata').detail, 'skipped: needs challenge');
  });

  it('warns at challenge without resource_metadata and finds the root document by the fallback', async () => {
    const server = await fake({ challenge: 'no-resource-metadata', noPathInsertedDocument: true });
    const { run, report } = await doctorJson(server.mcpUrl);
    assertAllSteps(report);
    assert.equal(stepOf(report, 'challenge').status, 'warn');
    assert.match(stepOf(report, 'challenge').detail, /without resource_metadata/);
    const metadata = stepOf(report, 'resource-metadata');
    assert.equal(metadata.status, 'pass', metadata.detail);
    assert.match(metadata.detail, /\/\.well-known\/oauth-protected-resource \(root fallback/);
    assert.deepEqual(
      metadata.urls?.map((tried) => [tried.url.slice(server.base.length), tried.status]),
      [
        ['/.well-known/oauth-protected-resource/mcp', 404],
        ['/.well-known/oauth-protected-resource', 200],
      ],
    );
    for (const step of report.steps.slice(2, 5)) assert.equal(step.status, 'pass', step.detail);
    assert.equal(report.ok, true);
    assert.equal(run.code, 0);
  });

  it('fails at resource-metadata on a trailing slash in resource, naming it', async () => {
    const server = await fake({ resourceTrailingSlash: true });
    const { run, report } = await doctorJson(server.mcpUrl);
    assertStopsAt(run, report, 'resource-metadata', 'fail', /resource ".*\/mcp\/" has a trailing slash/);
  });

  it('fails at auth-server-metadata when the issuer differs from the authorization server named', async () => {
    const server = await fake({ issuer: 'https://auth.elsewhere.example' });
    const { run, report } = await doctorJson(server.mcpUrl);
    assertStopsAt(
      run,
      report,
      'auth-server-metadata',
      'fail',
      /issuer "https:\/\/auth\.elsewhere\.example" is not ".*\/auth"/,
    );
    assert.equal(stepOf(report, 'cors').detail, 'skipped: needs auth-server-metadata');
  });

  it('fails at auth-server-metadata without S256 in code_challenge_methods_supported', async () => {
    const server = await fake({ codeChallengeMethods: ['plain'] });
    const { run, report } = await doctorJson(server.mcpUrl);
    assertStopsAt(
      run,
      report,
      'auth-server-metadata',
      'fail',
      /code_challenge_methods_supported \["plain"\] lacks S256/,
    );
  });

  it('fails at cors when the metadata documents allow no other origin', async () => {
    const server = await fake({ noMetadataCors: true });
    const { run, report } = await doctorJson(server.mcpUrl);
    assertStopsAt(
      run,
      report,
      'cors',
      'fail',
      /^protected-resource metadata: GET answered 200 without Access-Control-Allow-Origin.*authorization-server metadata: GET answered 200 without/,
    );
    assert.equal(stepOf(report, 'registration').status, 'pass');
    const preflights = stepOf(report, 'cors').urls!.filter((tried) => tried.method === 'OPTIONS');
    assert.ok(
      server.requests.includes('OPTIONS /.well-known/oauth-protected-resource/mcp'),
      'the preflight was sent',
    );
    assert.ok(preflights.length >= 4);
  });

  it('fails at registration with neither a registration endpoint nor Client ID Metadata Documents', async () => {
    const server = await fake({ noRegistration: true });
    const { run, report } = await doctorJson(server.mcpUrl);
    assertStopsAt(
      run,
      report,
      'registration',
      'fail',
      /no registration_endpoint and no client_id_metadata_document_supported/,
    );
  });

  it('passes registration on Client ID Metadata Document support alone, saying the doctor cannot host one', async () => {
    const server = await fake({ noRegistration: true, clientIdMetadataDocuments: true });
    const { run, report } = await doctorJson(server.mcpUrl);
    const registration = stepOf(report, 'registration');
    assert.equal(registration.status, 'pass');
    assert.match(registration.detail, /Client ID Metadata Documents supported.*cannot host such a document/);
    assert.equal(run.code, 0);
  });

  it('reports a redirect to another origin and does not follow it', async () => {
    let reached = false;
    const elsewhere = createServer((_req, res) => {
      reached = true;
      res.end('{}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const port = (elsewhere.address() as AddressInfo).port;
      const server = await fake({ redirectMetadataTo: `http://localhost:${port}/prm?secret=x` });
      const { run, report } = await doctorJson(server.mcpUrl);
      assertStopsAt(
        run,
        report,
        'resource-metadata',
        'fail',
        new RegExp(`answered 302 redirecting to http://localhost:${port}/prm, another origin: not followed`),
      );
      assert.equal(reached, false, 'the other host got no request');
      assert.doesNotMatch(run.stdout, /secret=x/, 'the redirect target is printed without its query');
    } finally {
      elsewhere.close();
    }
  });

  it('stops reading a metadata document past 1 MiB', async () => {
    const server = await fake({ resourceMetadataBytes: 2 * 1024 * 1024 });
    const { run, report } = await doctorJson(server.mcpUrl);
    assertStopsAt(run, report, 'resource-metadata', 'fail', /more than the 1048576 bytes read/);
  });

  it('passes the token step for a token bound to the server, never printing the token', async () => {
    const server = await fake();
    const token = await server.issueToken({ aud: server.mcpUrl });
    const run = await runGatehouse(['mcp', 'doctor', server.mcpUrl, '--token', token]);
    assert.equal(run.code, 0, run.stdout);
    assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), 'the token is never printed');
    assert.match(
      run.stdout,
      new RegExp(
        `^pass {2}token-audience +aud "${server.mcpUrl}", iss "${server.issuer}", sub "usr_fake", scope "projects:read", expires in 60 min; signature verified against jwks_uri \\(ES256, kid "fake-1"\\); initialize with it answered 200 \\(server "fake-mcp"\\)$`,
        'm',
      ),
    );
  });

  it('fails at token-audience for a token the server accepts although it was issued for another resource', async () => {
    const server = await fake();
    const token = await server.issueToken({ aud: `${server.base}/other` });
    const { run, report } = await doctorJson(server.mcpUrl, '--token', token);
    assertStopsAt(
      run,
      report,
      'token-audience',
      'fail',
      /aud ".*\/other" does not name this server's resource/,
    );
    assert.ok(!run.stdout.includes(token));
  });

  it('fails at token-audience for a token signed by a key the authorization server does not publish', async () => {
    const server = await fake();
    const token = await server.issueForeignToken({ aud: server.mcpUrl });
    const { run, report } = await doctorJson(server.mcpUrl, '--token', token);
    assertStopsAt(run, report, 'token-audience', 'fail', /the signature does not verify against jwks_uri/);
  });

  it('does not print a token the server quotes back in its refusal', async () => {
    const server = await fake({ refuseTokensEchoingThem: true });
    const token = await server.issueToken({ aud: server.mcpUrl });
    const run = await runGatehouse(['mcp', 'doctor', server.mcpUrl, '--token', token]);
    assert.equal(run.code, 1);
    // Not even the part a printed value would be shortened to.
    const prefix = token.slice(0, 60);
    assert.ok(!run.stdout.includes(prefix) && !run.stderr.includes(prefix), 'the token is never printed');
    assert.match(
      run.stdout,
      /^FAIL {2}token-audience +initialize with the token answered 401, not 200: error "invalid_token" "unknown token \[token\]"/m,
    );
  });

  it('lists the URLs a failing step tried under its line', async () => {
    const server = await fake({ challenge: 'no-resource-metadata', resourceTrailingSlash: true });
    const run = await runGatehouse(['mcp', 'doctor', server.mcpUrl]);
    assert.equal(run.code, 1);
    const lines = linesOf(run.stdout);
    const at = lines.findIndex((line) => line.startsWith('FAIL  resource-metadata'));
    assert.ok(at > 0, run.stdout);
    assert.match(
      lines[at + 1]!,
      /^ +200 {2}GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp$/,
    );
    assert.match(lines.at(-1)!, /: 1 step failed$/);
  });
});

describe('the doctor’s HTTP probe', () => {
  it('gives up on a server that does not answer within its deadline', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const probe = createProbe({ timeoutMs: 200, maxBodyBytes: 1024 });
      const started = Date.now();
      await assert.rejects(
        probe({ method: 'GET', url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/` }),
        (error: Error & { failure?: string }) =>
          error.failure === 'timeout' && /within 0.2 s/.test(error.message),
      );
      assert.ok(Date.now() - started < 2000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('reports a refused connection at the challenge step with exit 1', async () => {
    const port = await freePort();
    const { run, report } = await doctorJson(`http://127.0.0.1:${port}/mcp`);
    assert.equal(run.code, 1);
    assert.equal(stepOf(report, 'challenge').status, 'fail');
    assert.match(stepOf(report, 'challenge').detail, /no answer: ECONNREFUSED/);
  });
});

describe('gatehouse mcp doctor usage', () => {
  for (const [title, args, pattern] of [
    ['without a URL', ['mcp', 'doctor'], /missing required argument 'url'/],
    [
      'with a URL that is not http(s)',
      ['mcp', 'doctor', 'ftp://id.example.com/mcp'],
      /^gatehouse: .*http:\/\/ or https:\/\//,
    ],
    ['with a relative URL', ['mcp', 'doctor', 'id.example.com/mcp'], /^gatehouse: .*absolute/],
    [
      'with credentials in the URL',
      ['mcp', 'doctor', 'https://u:p@id.example.com/mcp'],
      /^gatehouse: .*user name or password/,
    ],
  ] as const) {
    it(`exits 2 with one line on stderr ${title}`, async () => {
      const run = await runGatehouse([...args]);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stdout, '');
      const lines = linesOf(run.stderr);
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, pattern);
    });
  }
});
