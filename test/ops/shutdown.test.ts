import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseMasterKey } from '../../src/core/secrets.ts';
import { freePort, type GatehouseProcess, spawnGatehouse } from '../helpers/process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-'));
const servers: GatehouseProcess[] = [];
after(async () => {
  // A failed assertion must not leave a server behind.
  for (const server of servers) {
    server.kill('SIGKILL');
    await server.exited.catch(() => {});
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function serve(args: string[], env: Record<string, string>): GatehouseProcess {
  const server = spawnGatehouse(args, { env, timeoutMs: 30_000 });
  servers.push(server);
  return server;
}

async function waitForHealthy(base: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) assert.fail(`no healthy server at ${base} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a form POST whose body is only half sent, so the request is in flight until
 * finish() sends the rest; resolves with the status the server finally answers.
 */
function startSlowRequest(port: number): { finish(): void; response: Promise<number> } {
  const body = 'email=slow%40x.example&password=not-the-password&csrf_token=none';
  const half = Math.floor(body.length / 2);
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/login',
    // Its own connection (Connection: close), so the server may exit as soon as it answers.
    agent: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
  });
  const response = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, half));
  return { finish: () => req.end(body.slice(half)), response };
}

describe('gatehouse serve on a fresh machine', () => {
  it('starts on embedded SQLite, prints a setup link, keeps a 0600 generated key, and drains on SIGTERM', async () => {
    const port = await freePort();
    const server = serve(['serve'], { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    await waitForHealthy(base, 15_000);

    const [link] = await server.waitForStdout(/http:\/\/localhost:\d+\/setup\?token=[A-Za-z0-9_-]{43}/);
    assert.equal(new URL(link).port, String(port), 'the link points at the port the server listens on');
    const setupPage = await fetch(link.replace(`localhost:${port}`, `127.0.0.1:${port}`));
    assert.equal(setupPage.status, 200, 'the printed link opens the setup page');

    const keyFile = join(dataDir, 'secret.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'the generated key is readable by its owner only');
    assert.equal(parseMasterKey(readFileSync(keyFile, 'utf8')).length, 32);
    assert.ok(
      statSync(join(dataDir, 'gatehouse.db')).isFile(),
      'the embedded database lives in the data dir',
    );
    const output = `${server.stdout()}\n${server.stderr()}`;
    assert.match(output, /GATEHOUSE_SECRET_KEY is unset: using a key generated into .*secret\.key/);
    assert.ok(!output.includes(readFileSync(keyFile, 'utf8').trim()), 'the key itself is never printed');

    const slow = startSlowRequest(port);
    await new Promise((r) => setTimeout(r, 200)); // the server has the headers and waits for the body
    const signalled = Date.now();
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    slow.finish();
    const status = await slow.response;
    assert.ok(status >= 200 && status < 500, `the in-flight request got its answer (${status})`);

    const run = await server.exited;
    assert.equal(run.timedOut, false);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(Date.now() - signalled < 10_000, 'exits within 10 s of SIGTERM');
    assert.match(run.stderr, /SIGTERM received, shutting down/);
    await assert.rejects(
      fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) }),
      'no longer listening',
    );
  });

  it('keeps serving when a global flag comes before serve, and exits 2 on a serve usage error', async () => {
    const port = await freePort();
    const env = { GATEHOUSE_DATA_DIR: join(dataDir, 'second'), GATEHOUSE_PORT: String(port) };
    const server = serve(['--json', 'serve'], env);
    const usage = serve(['serve', '--bogus'], env);
    await waitForHealthy(`http://127.0.0.1:${port}`, 15_000);
    const refused = await usage.exited;
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--bogus/);
    await new Promise((r) => setTimeout(r, 300));
    const still = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(still.status, 200, 'still up after start-up finished');
    server.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);
  });
});
