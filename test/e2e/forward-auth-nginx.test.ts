// Forward auth through Debian's real nginx (SPEC §4, docs/proxies.md): the nginx block of
// docs/proxies.md, with only its ports replaced, in front of a small upstream that echoes
// the X-Gatehouse-* headers it receives, with Gatehouse itself running in-process on each
// database backend. Admins are made with the real `gatehouse admin create`, they sign in
// through the real /login form, and their API keys are made and revoked over /v1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { form, hiddenField, TEST_PASSWORD } from '../helpers/app.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { markedBlock, nginxTier, type RunningNginx, replaceOnce, startNginx } from '../helpers/nginx.ts';
import { runGatehouse } from '../helpers/process.ts';

const DOC = fileURLToPath(new URL('../../docs/proxies.md', import.meta.url));
/** Every request in this file gives up after this long. */
const REQUEST_MS = 10_000;

/** docs/proxies.md's nginx block, pointed at this run's ports and nothing else changed. */
function documentedNginxBlock(ports: { nginx: number; gatehouse: number; app: number }): string {
  let block = markedBlock(DOC, 'gatehouse-nginx');
  block = replaceOnce(block, 'listen 80;', `listen 127.0.0.1:${ports.nginx};`);
  block = replaceOnce(block, 'server 127.0.0.1:8080;', `server 127.0.0.1:${ports.gatehouse};`);
  block = replaceOnce(block, 'server 127.0.0.1:3000;', `server 127.0.0.1:${ports.app};`);
  return block;
}

/** What the upstream received: the method, the path and every header naming Gatehouse. */
interface Echo {
  method: string;
  path: string;
  gatehouse: Record<string, string>;
}

interface EchoUpstream {
  readonly port: number;
  /** Requests that reached the upstream so far. */
  hits(): number;
  close(): Promise<void>;
}

function gatehouseHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.includes('gatehouse') && value !== undefined) seen[name] = String(value);
  }
  return seen;
}

async function startEchoUpstream(): Promise<EchoUpstream> {
  let hits = 0;
  const server: Server = createServer((request, response) => {
    hits += 1;
    request.resume();
    request.on('end', () => {
      const echo: Echo = {
        method: request.method ?? '',
        path: request.url ?? '',
        gatehouse: gatehouseHeaders(request.headers),
      };
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface SignedIn {
  readonly cookie: string;
  readonly csrfToken: string;
  readonly userId: string;
}

function cookiePair(response: Response, name: string): string | undefined {
  return response.headers
    .getSetCookie()
    .find((line) => line.startsWith(`${name}=`))
    ?.split(';')[0];
}

/** Signs in through Gatehouse's own /login form, as a browser does. */
async function signIn(gatehouseUrl: string, email: string): Promise<SignedIn> {
  const page = await fetch(`${gatehouseUrl}/login`, { signal: AbortSignal.timeout(REQUEST_MS) });
  assert.equal(page.status, 200);
  const formCookie = cookiePair(page, 'gatehouse_csrf');
  assert.ok(formCookie, 'GET /login sets the form CSRF cookie');
  const submitted = await fetch(`${gatehouseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: formCookie },
    body: form({ email, password: TEST_PASSWORD, csrf_token: hiddenField(await page.text(), 'csrf_token') }),
    signal: AbortSignal.timeout(REQUEST_MS),
  });
  assert.equal(submitted.status, 303, await submitted.text());
  const cookie = cookiePair(submitted, 'gatehouse_session');
  assert.ok(cookie, 'POST /login sets the session cookie');
  const me = await fetch(`${gatehouseUrl}/v1/me`, {
    headers: { cookie },
    signal: AbortSignal.timeout(REQUEST_MS),
  });
  assert.equal(me.status, 200);
  const described = (await me.json()) as { csrf_token: string; principal: { id: string } };
  return { cookie, csrfToken: described.csrf_token, userId: described.principal.id };
}

interface IssuedKey {
  id: string;
  token: string;
}

for (const kind of backendKinds()) {
  describe(`forward auth through nginx auth_request [${kind}]`, { skip: nginxTier().skip }, () => {
    let testDatabase: TestDatabase | undefined;
    let dataDir: string | undefined;
    let gatehouse: RunningServer | undefined;
    let upstream: EchoUpstream | undefined;
    let nginx: RunningNginx | undefined;
    let admin: SignedIn;
    let acmeOrgId: string;
    let fullKey: IssuedKey;
    let readOnlyKey: IssuedKey;

    /** A request to nginx; `bearer` goes in Authorization, `cookie` as the Cookie header. */
    async function throughNginx(
      path: string,
      options: { method?: string; bearer?: string; cookie?: string; headers?: Record<string, string> } = {},
    ): Promise<{ status: number; echo: Echo | undefined; body: string }> {
      const headers: Record<string, string> = { ...options.headers };
      if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
      if (options.cookie !== undefined) headers.cookie = options.cookie;
      const method = options.method ?? 'GET';
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const response = await fetch(`${nginx!.url}${path}`, {
        method,
        headers: hasBody ? { 'content-type': 'application/json', ...headers } : headers,
        body: hasBody ? JSON.stringify({ written: true }) : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_MS),
      });
      const body = await response.text();
      const fromUpstream =
        response.status === 200 && response.headers.get('content-type') === 'application/json';
      return { status: response.status, echo: fromUpstream ? (JSON.parse(body) as Echo) : undefined, body };
    }

    async function createKey(name: string, readOnly = false): Promise<IssuedKey> {
      const response = await fetch(`${gatehouse!.url}/v1/orgs/acme/api-keys`, {
        method: 'POST',
        headers: {
          cookie: admin.cookie,
          'x-csrf-token': admin.csrfToken,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name, read_only: readOnly }),
        signal: AbortSignal.timeout(REQUEST_MS),
      });
      const text = await response.text();
      assert.equal(response.status, 201, text);
      return JSON.parse(text) as IssuedKey;
    }

    before(async () => {
      testDatabase = await createTestDatabase(kind);
      dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-forward-auth-'));
      const env = {
        GATEHOUSE_DATABASE_URL: testDatabase.url,
        GATEHOUSE_SECRET_KEY: generateMasterKey(),
        GATEHOUSE_DATA_DIR: dataDir,
      };
      for (const [email, org] of [
        ['ada@acme.example', 'acme'],
        ['grace@globex.example', 'globex'],
      ] as const) {
        const run = await runGatehouse(['admin', 'create', '--email', email, '--org', org, '--json'], {
          env,
          stdin: `${TEST_PASSWORD}\n`,
        });
        assert.equal(run.code, 0, run.stderr);
        if (org === 'acme') acmeOrgId = (JSON.parse(run.stdout) as { org_id: string }).org_id;
      }
      gatehouse = await startServer({
        ...env,
        GATEHOUSE_PORT: '0',
        GATEHOUSE_HOST: '127.0.0.1',
        GATEHOUSE_PUBLIC_URL: 'http://127.0.0.1:8080',
        GATEHOUSE_LOG_LEVEL: 'silent',
        GATEHOUSE_TRUST_PROXY: '127.0.0.1',
      });
      upstream = await startEchoUpstream();
      const ports = { gatehouse: Number(new URL(gatehouse.url).port), app: upstream.port };
      nginx = await startNginx((port) => documentedNginxBlock({ ...ports, nginx: port }));

      admin = await signIn(gatehouse.url, 'ada@acme.example');
      fullKey = await createKey('deploy bot');
      readOnlyKey = await createKey('dashboard', true);
    });

    after(async () => {
      await nginx?.stop();
      await upstream?.close();
      await gatehouse?.stop();
      await testDatabase?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it("forwards a request with a valid API key, and the upstream sees the key owner's identity", async () => {
      const { status, echo, body } = await throughNginx('/reports?month=5', { bearer: fullKey.token });
      assert.equal(status, 200, `${body}\n${nginx!.errorLog()}`);
      assert.equal(echo?.path, '/reports?month=5');
      assert.deepEqual(echo?.gatehouse, {
        'x-gatehouse-principal-kind': 'user',
        'x-gatehouse-user': admin.userId,
        'x-gatehouse-auth-method': 'api_key',
        'x-gatehouse-org': acmeOrgId,
        'x-gatehouse-org-slug': 'acme',
        'x-gatehouse-role': 'admin',
        'x-gatehouse-read-only': 'false',
      });
    });

    it('refuses a request without a credential with 401 before it reaches the upstream', async () => {
      const hits = upstream!.hits();
      const { status } = await throughNginx('/reports');
      assert.equal(status, 401);
      assert.equal(upstream!.hits(), hits, 'the upstream saw nothing');
    });

    it('refuses a garbage key and a non-key bearer token with 401', async () => {
      const hits = upstream!.hits();
      for (const bearer of ['gk_garbage', `gk_${'x'.repeat(40)}`, 'not-a-key']) {
        const { status } = await throughNginx('/reports', { bearer });
        assert.equal(status, 401, bearer);
      }
      assert.equal(upstream!.hits(), hits);
    });

    it('refuses a key with 401 as soon as it is revoked over /v1', async () => {
      const key = await createKey('short-lived');
      assert.equal((await throughNginx('/reports', { bearer: key.token })).status, 200);
      const revoked = await fetch(`${gatehouse!.url}/v1/orgs/acme/api-keys/${key.id}`, {
        method: 'DELETE',
        headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken },
        signal: AbortSignal.timeout(REQUEST_MS),
      });
      assert.equal(revoked.status, 204, await revoked.text());
      assert.equal((await throughNginx('/reports', { bearer: key.token })).status, 401);
    });

    it('lets a read-only key read (and says so upstream) but refuses its writes with 403', async () => {
      const read = await throughNginx('/reports', { bearer: readOnlyKey.token });
      assert.equal(read.status, 200, read.body);
      assert.equal(read.echo?.gatehouse['x-gatehouse-read-only'], 'true');
      assert.equal(read.echo?.gatehouse['x-gatehouse-user'], admin.userId);
      const hits = upstream!.hits();
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const { status } = await throughNginx('/reports', { method, bearer: readOnlyKey.token });
        assert.equal(status, 403, method);
      }
      assert.equal(upstream!.hits(), hits, 'no write reached the upstream');
      // The full key may write through the same location; the upstream gets the body.
      const write = await throughNginx('/reports', { method: 'POST', bearer: fullKey.token });
      assert.equal(write.status, 200, write.body);
      assert.equal(write.echo?.method, 'POST');
    });

    it('refuses a read-only write that claims to be a GET in X-Forwarded-Method or X-Original-Method', async () => {
      const { status } = await throughNginx('/reports', {
        method: 'POST',
        bearer: readOnlyKey.token,
        headers: { 'x-forwarded-method': 'GET', 'x-original-method': 'GET' },
      });
      assert.equal(status, 403);
    });

    it("forwards a request with the session cookie, and the upstream sees the signed-in user's id", async () => {
      const anyOrg = await throughNginx('/reports', { cookie: admin.cookie });
      assert.equal(anyOrg.status, 200, anyOrg.body);
      assert.equal(anyOrg.echo?.gatehouse['x-gatehouse-user'], admin.userId);
      assert.equal(anyOrg.echo?.gatehouse['x-gatehouse-principal-kind'], 'user');
      assert.match(anyOrg.echo?.gatehouse['x-gatehouse-auth-method'] ?? '', /^session/);
      assert.equal(anyOrg.echo?.gatehouse['x-gatehouse-org'], undefined, 'a session is bound to no org');
      // A location checked with ?org=acme names the org and the live role.
      const inAcme = await throughNginx('/acme/projects', { cookie: admin.cookie });
      assert.equal(inAcme.status, 200, inAcme.body);
      assert.equal(inAcme.echo?.gatehouse['x-gatehouse-org'], acmeOrgId);
      assert.equal(inAcme.echo?.gatehouse['x-gatehouse-org-slug'], 'acme');
      assert.equal(inAcme.echo?.gatehouse['x-gatehouse-role'], 'admin');
      // A session cookie is refused like a key once it is not valid.
      const forged = await throughNginx('/reports', { cookie: `gatehouse_session=${'A'.repeat(43)}` });
      assert.equal(forged.status, 401);
    });

    it('never lets a client-sent X-Gatehouse-* header reach the upstream', async () => {
      const forged = {
        'x-gatehouse-user': 'usr_forged',
        'x-gatehouse-principal-kind': 'service_account',
        'x-gatehouse-org': 'org_forged',
        'x-gatehouse-org-slug': 'globex',
        'x-gatehouse-role': 'admin',
        'x-gatehouse-read-only': 'false',
        'x-gatehouse-auth-method': 'forged',
      };
      // With a key: Gatehouse's values replace the client's.
      const withKey = await throughNginx('/reports', { bearer: readOnlyKey.token, headers: forged });
      assert.equal(withKey.status, 200, withKey.body);
      assert.equal(withKey.echo?.gatehouse['x-gatehouse-user'], admin.userId);
      assert.equal(withKey.echo?.gatehouse['x-gatehouse-org'], acmeOrgId);
      assert.equal(withKey.echo?.gatehouse['x-gatehouse-read-only'], 'true');
      assert.equal(withKey.echo?.gatehouse['x-gatehouse-auth-method'], 'api_key');
      // With a session and no org: Gatehouse sends the org and role headers empty, which
      // nginx drops, so the client's forged ones do not get through either.
      const withSession = await throughNginx('/reports', { cookie: admin.cookie, headers: forged });
      assert.equal(withSession.status, 200, withSession.body);
      assert.deepEqual(Object.keys(withSession.echo?.gatehouse ?? {}).sort(), [
        'x-gatehouse-auth-method',
        'x-gatehouse-principal-kind',
        'x-gatehouse-read-only',
        'x-gatehouse-user',
      ]);
      assert.equal(withSession.echo?.gatehouse['x-gatehouse-read-only'], 'false');
      assert.equal(withSession.echo?.gatehouse['x-gatehouse-user'], admin.userId);
    });

    it('refuses with 403 a location checked with ?org= of an org the caller is not in', async () => {
      const hits = upstream!.hits();
      assert.equal((await throughNginx('/globex/plans', { bearer: fullKey.token })).status, 403);
      assert.equal((await throughNginx('/globex/plans', { cookie: admin.cookie })).status, 403);
      assert.equal(upstream!.hits(), hits);
      assert.equal((await throughNginx('/acme/plans', { bearer: fullKey.token })).status, 200);
    });

    it('refuses with 403 a location checked with ?permission= the credential lacks', async () => {
      const admins = await throughNginx('/acme/members/', { bearer: fullKey.token });
      assert.equal(admins.status, 200, admins.body);
      assert.equal(admins.echo?.gatehouse['x-gatehouse-role'], 'admin');
      // members:write is a write permission: a read-only key lacks it even for a GET.
      assert.equal((await throughNginx('/acme/members/', { bearer: readOnlyKey.token })).status, 403);
    });

    it('does not let clients call the check locations themselves', async () => {
      for (const path of ['/_gatehouse/check', '/_gatehouse/check-globex', '/_gatehouse/']) {
        const { status } = await throughNginx(path, { bearer: fullKey.token });
        assert.equal(status, 404, path);
      }
    });

    it("counts failures against the client's address from X-Forwarded-For, not against nginx", async () => {
      // nginx appends the address it sees (127.0.0.1, trusted like nginx itself here), so
      // Gatehouse takes the address this client put in front: a stand-in for a real client.
      const guesser = { 'x-forwarded-for': '203.0.113.7' };
      let status = 0;
      for (let attempt = 0; attempt < 70 && status !== 500; attempt += 1) {
        ({ status } = await throughNginx('/reports', { bearer: 'gk_guess', headers: guesser }));
        if (status !== 500) assert.equal(status, 401);
      }
      // Gatehouse answers 429 to that address, which nginx turns into 500 (docs/proxies.md).
      assert.equal(status, 500, 'the guessing address is locked out');
      const lockedOut = await throughNginx('/reports', { bearer: fullKey.token, headers: guesser });
      assert.equal(lockedOut.status, 500);
      const neighbour = await throughNginx('/reports', {
        bearer: fullKey.token,
        headers: { 'x-forwarded-for': '203.0.113.8' },
      });
      assert.equal(neighbour.status, 200, 'another address still passes');
      assert.equal((await throughNginx('/reports', { bearer: fullKey.token })).status, 200);
    });
  });
}
