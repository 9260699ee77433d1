// The CLI's OAuth from the attacker's side and at its edges (SPEC §9), against a live
// Gatehouse: a forged redirect to the loopback (wrong iss, wrong state) is refused and ends
// the login; the loopback answers nothing but its callback; a login nobody completes times
// out and closes its port; a refused refresh means "sign in again" (exit 3); a logout the
// server cannot hear keeps the profile; and device polling slows down when told to.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  assertExit,
  type CliMachine,
  cliMachine,
  type LiveGatehouse,
  printedAuthorizationUrl,
  startLiveGatehouse,
} from '../helpers/cli-client.ts';
import { freePort } from '../helpers/process.ts';

function craftedProfile(
  machine: CliMachine,
  url: string,
  clientId: string,
  refreshToken: string,
  clients = {},
): void {
  mkdirSync(machine.configDir, { recursive: true, mode: 0o700 });
  const config = {
    version: 1,
    default_profile: 'default',
    clients,
    profiles: {
      default: {
        url,
        issuer: `${url}/oauth`,
        credential: {
          method: 'oauth',
          client_id: clientId,
          access_token: 'expired.access.token',
          expires_at: new Date(Date.now() - 60_000).toISOString(),
          refresh_token: refreshToken,
        },
      },
    },
  };
  writeFileSync(machine.configPath, JSON.stringify(config), { mode: 0o600 });
}

describe('the gatehouse CLI’s OAuth, from the attacker’s side', () => {
  let live: LiveGatehouse;
  let machine: CliMachine;

  before(async () => {
    live = await startLiveGatehouse('sqlite');
    machine = cliMachine();
  });
  after(async () => {
    machine?.remove();
    await live?.stop();
  });

  it('refuses a redirect with the right state but the iss of another server, and saves nothing', {
    timeout: 30_000,
  }, async () => {
    const login = machine.spawn([
      'auth',
      'login',
      '--url',
      live.publicUrl,
      '--no-browser',
      '--profile',
      'forged',
    ]);
    const url = await printedAuthorizationUrl(login);
    const redirect = new URL(url.searchParams.get('redirect_uri')!);
    redirect.search = new URLSearchParams({
      code: 'attacker-code',
      state: url.searchParams.get('state')!,
      iss: 'http://127.0.0.1:1/oauth',
    }).toString();
    const answer = await fetch(redirect);
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /did not complete/);
    const run = await login.exited;
    assertExit(run, 1);
    assert.match(run.stderr, /completing the sign-in failed: .*iss/);
    assert.equal(machine.config().profiles.forged, undefined);
  });

  it('turns away requests that are not its sign-in, then gives up after --timeout and closes the port', {
    timeout: 30_000,
  }, async () => {
    const login = machine.spawn(['auth', 'login', '--url', live.publicUrl, '--no-browser', '--timeout', '3']);
    const url = await printedAuthorizationUrl(login);
    const redirect = new URL(url.searchParams.get('redirect_uri')!);
    const stray = await fetch(new URL('/', redirect));
    assert.equal(stray.status, 404, 'only the callback path is served');
    // Any local process or web page can reach the port: a response without this sign-in's
    // state must not end it.
    redirect.search = new URLSearchParams({ error: 'access_denied', state: 'forged-state' }).toString();
    const forged = await fetch(redirect);
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /not the sign-in the Gatehouse CLI is waiting for/);
    const run = await login.exited;
    assertExit(run, 1);
    assert.match(run.stderr, /gave up waiting for the browser sign-in after 3 s/);
    await assert.rejects(fetch(redirect), /fetch failed/, 'nothing listens any more');
    assert.ok(machine.config().clients[`${live.publicUrl}/oauth`], 'the registration is kept for next time');
  });

  it('registers again when the server no longer knows the kept registration', {
    timeout: 30_000,
  }, async () => {
    const issuer = `${live.publicUrl}/oauth`;
    const forgotten = { client_id: 'a-client-the-server-forgot', registered_at: new Date().toISOString() };
    const config = { ...machine.config(), clients: { [issuer]: forgotten } };
    writeFileSync(machine.configPath, JSON.stringify(config), { mode: 0o600 });
    const login = machine.spawn(['auth', 'login', '--url', live.publicUrl, '--no-browser', '--timeout', '1']);
    const url = await printedAuthorizationUrl(login);
    assertExit(await login.exited, 1);
    assert.match(login.stderr(), /no longer knows this CLI's registration; registering again/);
    const kept = machine.config().clients[issuer]!.client_id;
    assert.notEqual(kept, 'a-client-the-server-forgot');
    assert.equal(url.searchParams.get('client_id'), kept, 'the new registration is the one used');
  });

  it('answers a refused refresh with exit 3 and "sign in again"', { timeout: 30_000 }, async () => {
    const clients = machine.config().clients;
    const clientId = clients[`${live.publicUrl}/oauth`]!.client_id;
    const other = cliMachine();
    try {
      craftedProfile(other, live.publicUrl, clientId, 'not-a-refresh-token', clients);
      const run = await other.run(['auth', 'token']);
      assertExit(run, 3);
      assert.match(
        run.stderr,
        /refreshing the access token failed: the server answered invalid_grant.*gatehouse auth login/,
      );
    } finally {
      other.remove();
    }
  });

  it('keeps the profile when the server cannot be told of the logout', { timeout: 30_000 }, async () => {
    const other = cliMachine();
    try {
      const closed = `http://127.0.0.1:${await freePort()}`;
      craftedProfile(other, closed, 'some-client', 'some-refresh-token');
      const run = await other.run(['auth', 'logout']);
      assertExit(run, 1);
      assert.match(run.stderr, new RegExp(`cannot reach ${closed}`));
      assert.ok(other.config().profiles.default, 'the profile is still there to log out from later');
    } finally {
      other.remove();
    }
  });
});

describe('the gatehouse CLI’s device flow polling', () => {
  let live: LiveGatehouse;
  let proxy: Server;
  const polls: number[] = [];
  let started = 0;

  before(async () => {
    // A reverse proxy in front of Gatehouse (its public URL), which answers the first poll of
    // the token endpoint with slow_down, as a busy server may.
    const port = await freePort();
    live = await startLiveGatehouse('sqlite', { GATEHOUSE_PUBLIC_URL: `http://127.0.0.1:${port}` });
    const upstream = new URL(live.listenUrl);
    proxy = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        if (incoming.url === '/oauth/device/auth') started = Date.now();
        if (incoming.url === '/oauth/token' && body.toString().includes('device_code')) {
          polls.push(Date.now());
          if (polls.length === 1) {
            outgoing.writeHead(400, { 'content-type': 'application/json', 'cache-control': 'no-store' });
            outgoing.end(JSON.stringify({ error: 'slow_down', error_description: 'poll less often' }));
            return;
          }
        }
        const forwarded = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forwarded.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  });
  after(async () => {
    proxy?.close();
    await live?.stop();
  });

  it('polls at the server’s interval and waits 5 s longer after slow_down', { timeout: 30_000 }, async () => {
    const machine = cliMachine();
    try {
      const login = machine.spawn(['auth', 'login', '--url', live.publicUrl, '--device']);
      for (let waited = 0; polls.length < 2 && waited < 30_000; waited += 100)
        await new Promise((resolve) => setTimeout(resolve, 100));
      login.kill();
      await login.exited;
      assert.match(login.stderr(), /enter the code:/);
      assert.ok(polls.length >= 2, `two polls seen (${polls.length})`);
      const first = polls[0]! - started;
      const afterSlowDown = polls[1]! - polls[0]!;
      assert.ok(first >= 4500, `the first poll waited the 5 s interval (${first} ms)`);
      assert.ok(afterSlowDown >= 9500, `after slow_down the interval grew to 10 s (${afterSlowDown} ms)`);
    } finally {
      machine.remove();
    }
  });
});
