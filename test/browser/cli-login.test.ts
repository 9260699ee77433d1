// `gatehouse auth login` as a developer does it (SPEC §9), against a live Gatehouse, with a
// person in a real Chromium: the browser opened on the authorization URL (here, BROWSER is a
// script handing the URL to the test's Chromium), sign-in and consent, the loopback redirect
// and its "you can close this tab" page; then the device flow on a machine with no display,
// the code entered in the browser. After that: refresh on expiry, ten processes refreshing at
// once, logout revoking the grant at the server, and the attacker's side of the loopback.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { TEST_PASSWORD } from '../helpers/app.ts';
import { backendKinds } from '../helpers/backends.ts';
import { browserTier, launchBrowser, newBoundedContext } from '../helpers/browser.ts';
import {
  ADMIN_EMAIL,
  assertExit,
  type CliMachine,
  cliMachine,
  type LiveGatehouse,
  ORG,
  printedAuthorizationUrl,
  startLiveGatehouse,
  waitForStderr,
} from '../helpers/cli-client.ts';

const STEP_TIMEOUT_MS = 60_000;

/** A BROWSER command that writes the URL it is given to a file, where the test picks it up. */
function capturingBrowser(): { command: string; url: () => Promise<URL>; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-browser-'));
  const file = join(dir, 'opened-url');
  const script = join(dir, 'open-browser.sh');
  writeFileSync(script, `#!/bin/sh\nprintf '%s' "$1" > '${file}.tmp' && mv '${file}.tmp' '${file}'\n`);
  chmodSync(script, 0o755);
  return {
    command: script,
    url: async () => {
      for (let waited = 0; waited < 15_000; waited += 50) {
        if (existsSync(file)) return new URL(readFileSync(file, 'utf8'));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the CLI never opened the browser');
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The person at the browser: signs in when asked, then answers the consent page. */
async function signInAndConsent(page: Page, decision: 'Allow' | 'Deny'): Promise<string> {
  const heading = page.getByRole('heading', { name: 'Authorize Gatehouse CLI?' });
  const email = page.getByLabel('Email');
  await heading.or(email).waitFor();
  if (await email.isVisible()) {
    await email.fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await heading.waitFor();
  const consent = await page.locator('main').innerText();
  await page.getByRole('button', { name: decision }).click();
  return consent;
}

function expireAccessToken(machine: CliMachine, profile: string, inMs: number): void {
  const config = machine.config();
  config.profiles[profile]!.credential.expires_at = new Date(Date.now() + inMs).toISOString();
  writeFileSync(machine.configPath, JSON.stringify(config), { mode: 0o600 });
}

async function refreshGrant(live: LiveGatehouse, clientId: string, refreshToken: string): Promise<Response> {
  return fetch(`${live.publicUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
    }),
  });
}

for (const kind of backendKinds()) {
  describe(`gatehouse auth login with a person in the browser [browser] [${kind}]`, browserTier(), () => {
    let live: LiveGatehouse;
    let browser: Browser;
    let context: BrowserContext;
    let machine: CliMachine;

    before(
      async () => {
        browser = await launchBrowser();
        live = await startLiveGatehouse(kind);
        context = await newBoundedContext(browser, live.publicUrl);
        machine = cliMachine();
      },
      { timeout: STEP_TIMEOUT_MS },
    );
    after(async () => {
      machine?.remove();
      await context?.close();
      await browser?.close();
      await live?.stop();
    });

    it('opens the browser, signs in and consents there, and lands on the loopback page', {
      timeout: STEP_TIMEOUT_MS,
    }, async () => {
      const opener = capturingBrowser();
      try {
        const login = machine.spawn(['auth', 'login', '--url', live.publicUrl], {
          env: { BROWSER: opener.command },
        });
        const url = await opener.url();
        assert.equal(`${url.origin}${url.pathname}`, `${live.publicUrl}/oauth/authorize`);
        assert.equal(url.searchParams.get('resource'), `${live.publicUrl}/v1`);
        assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
        assert.match(url.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
        assert.ok(url.searchParams.get('state'));

        const page = await context.newPage();
        await page.goto(url.href);
        const consent = await signInAndConsent(page, 'Allow');
        assert.match(consent, /127\.0\.0\.1/, 'the consent page names the loopback redirect');
        await page.getByRole('heading', { name: 'Signed in to Gatehouse' }).waitFor();
        assert.match(await page.locator('main').innerText(), /close this tab/);
        await page.close();

        const run = await login.exited;
        assertExit(run, 0);
        assert.match(run.stderr, /Opened your browser/);
        assert.equal(
          run.stdout.trim(),
          `Signed in to ${live.publicUrl} as ${ADMIN_EMAIL} (profile "default", the default; org ${ORG}).`,
        );
        const config = machine.config();
        const issuer = `${live.publicUrl}/oauth`;
        const saved = config.profiles.default!;
        assert.equal(saved.issuer, issuer);
        assert.equal(saved.credential.method, 'oauth');
        assert.equal(
          saved.credential.client_id,
          config.clients[issuer]?.client_id,
          'registered once, kept by issuer',
        );
        assert.equal(url.searchParams.get('client_id'), saved.credential.client_id);
        const claims = JSON.parse(
          Buffer.from(saved.credential.access_token!.split('.')[1]!, 'base64url').toString(),
        );
        assert.equal(claims.aud, `${live.publicUrl}/v1`, 'the token is bound to the API');
      } finally {
        opener.remove();
      }

      const [whoami, projects] = await Promise.all([
        machine.run(['whoami']),
        machine.run(['projects', 'list']),
      ]);
      assertExit(whoami, 0);
      assert.match(whoami.stdout, new RegExp(`<${ADMIN_EMAIL}>`));
      assert.match(whoami.stdout, /by oauth/);
      assertExit(projects, 0);
      assert.match(projects.stdout, new RegExp(`No projects in ${ORG}|NAME`));
    });

    it('refreshes an access token that expires within a minute, rotating the refresh token', {
      timeout: STEP_TIMEOUT_MS,
    }, async () => {
      const before = machine.config().profiles.default!.credential;
      expireAccessToken(machine, 'default', 30_000);
      const run = await machine.run(['auth', 'token']);
      assertExit(run, 0);
      const after = machine.config().profiles.default!.credential;
      assert.equal(run.stdout.trim(), after.access_token);
      assert.notEqual(after.access_token, before.access_token);
      assert.notEqual(after.refresh_token, before.refresh_token, 'the refresh token rotated');
      assert.match(run.stderr, /^expires in 59 min/);
      const unchanged = await machine.run(['auth', 'token']);
      assert.equal(unchanged.stdout.trim(), after.access_token, 'a fresh token is used as it is');
    });

    it('has ten processes that find the token expired perform one refresh between them', {
      timeout: STEP_TIMEOUT_MS,
    }, async () => {
      const before = machine.config().profiles.default!.credential;
      expireAccessToken(machine, 'default', -1000);
      const runs = await Promise.all(Array.from({ length: 10 }, () => machine.run(['auth', 'token'])));
      for (const run of runs) assertExit(run, 0);
      const tokens = new Set(runs.map((run) => run.stdout.trim()));
      // Two refreshes would have printed two tokens, or tripped reuse detection (a spent
      // refresh token presented again revokes the grant) and failed the rest.
      assert.equal(tokens.size, 1, 'every process printed the one refreshed token');
      const after = machine.config().profiles.default!.credential;
      assert.deepEqual([...tokens], [after.access_token]);
      assert.notEqual(after.access_token, before.access_token);
      assert.notEqual(after.refresh_token, before.refresh_token);
      // Had any process presented the spent refresh token again, the server would have revoked
      // the grant (reuse detection) and this would be refused.
      const whoami = await machine.run(['whoami']);
      assertExit(whoami, 0);
    });

    it('logs out by revoking the grant at the server, then forgets the profile', {
      timeout: STEP_TIMEOUT_MS,
    }, async () => {
      const credential = machine.config().profiles.default!.credential;
      const run = await machine.run(['auth', 'logout']);
      assertExit(run, 0);
      assert.match(run.stdout, /revoked at the server/);
      assert.equal(machine.config().profiles.default, undefined);
      assert.equal(machine.config().default_profile, undefined);
      const refused = await refreshGrant(live, credential.client_id!, credential.refresh_token!);
      assert.equal(refused.status, 400);
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_grant');
      const me = await fetch(`${live.publicUrl}/v1/me`, {
        headers: { authorization: `Bearer ${credential.access_token}` },
      });
      assert.equal(me.status, 401, 'the access tokens of the grant end with it');
      const status = await machine.run(['auth', 'status']);
      assertExit(status, 3);
      assert.match(status.stderr, /not signed in/);
    });

    it('signs in with a device code on a machine without a display, the code entered in the browser', {
      timeout: STEP_TIMEOUT_MS,
    }, async () => {
      const login = machine.spawn(
        ['auth', 'login', '--url', live.publicUrl, '--profile', 'remote', '--org', ORG],
        {
          env: { SSH_CONNECTION: '10.0.0.9 52000 10.0.0.1 22' },
        },
      );
      const code = await waitForStderr(login, /enter the code:\n {2}([A-Z]{4}-[A-Z]{4})\n/);
      assert.match(
        login.stderr(),
        /No browser can be opened here \(this is an SSH session without a display\)/,
      );
      const page = await context.newPage();
      await page.goto(`${live.publicUrl}/oauth/device`);
      await page.locator('input[name="user_code"]').fill(code[1]!);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Is this your device?' }).waitFor();
      await page.getByRole('button', { name: 'Continue' }).click();
      await signInAndConsent(page, 'Allow');
      await page.getByRole('heading', { name: 'Device signed in' }).waitFor();
      await page.close();
      const run = await login.exited;
      assertExit(run, 0);
      assert.match(run.stdout, /as ada@cli\.example \(profile "remote", the default; org acme\)/);
      const token = await machine.run(['auth', 'token', '--profile', 'remote']);
      assertExit(token, 0);
      assert.equal(token.stdout.trim(), machine.config().profiles.remote!.credential.access_token);
    });

    it('ends a login the person denies with exit 3, saving nothing', {
      timeout: STEP_TIMEOUT_MS,
    }, async () => {
      const login = machine.spawn([
        'auth',
        'login',
        '--url',
        live.publicUrl,
        '--profile',
        'denied',
        '--no-browser',
      ]);
      const url = await printedAuthorizationUrl(login);
      const page = await context.newPage();
      await page.goto(url.href);
      await signInAndConsent(page, 'Deny');
      await page.getByRole('heading', { name: 'Gatehouse sign-in did not complete' }).waitFor();
      await page.close();
      const run = await login.exited;
      assertExit(run, 3);
      assert.match(run.stderr, /access_denied/);
      assert.equal(machine.config().profiles.denied, undefined);
    });
  });
}
