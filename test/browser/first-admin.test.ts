// The first-admin journey in a real Chromium against a real server (SPEC §3, §10): the
// one-time setup link, sign-out and sign-in, adding a viewer from the console, the viewer
// refused the audit log, suspension ending the viewer's session at once, and the audit log
// recording it all with an intact chain. Once per backend; the steps run in order and share
// one server and two browser profiles (the admin's and the viewer's).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import {
  AdminConsole,
  browserTier,
  type FirstAdmin,
  fetchFromPage,
  LoginPage,
  LogoutPage,
  launchBrowser,
  newBoundedContext,
  pathOf,
  SetupPage,
} from '../helpers/browser.ts';
import { freePort } from '../helpers/process.ts';

const STEP_TIMEOUT_MS = 15_000;
/** Overwritten on every run, so screenshots never pile up; never inside the repository. */
const SCREENSHOT_DIR = join(tmpdir(), 'gatehouse-browser-screenshots');

const admin: FirstAdmin = {
  name: 'Ada Admin',
  email: 'ada@acme.example',
  password: 'first admin passphrase',
  orgName: 'Acme Inc',
  orgSlug: 'acme',
};
const viewer = { name: 'Vic Viewer', email: 'vic@acme.example', password: 'viewer passphrase 1' };

/** True when `wanted` appears in `actions` in this order (other actions may sit between). */
function inOrder(actions: readonly string[], wanted: readonly string[]): boolean {
  let next = 0;
  for (const action of actions) if (action === wanted[next]) next++;
  return next === wanted.length;
}

for (const kind of backendKinds()) {
  describe(`first admin sets up Gatehouse and manages a viewer [browser] [${kind}]`, browserTier(), () => {
    let testDatabase: TestDatabase | undefined;
    let dataDir: string | undefined;
    let server: RunningServer | undefined;
    let browser: Browser | undefined;
    let adminContext: BrowserContext | undefined;
    let viewerContext: BrowserContext | undefined;
    let adminPage: Page;
    let viewerPage: Page;
    const pageErrors: string[] = [];

    before(
      async () => {
        // First, so a missing Chromium fails (CI) before anything else starts.
        browser = await launchBrowser();
        testDatabase = await createTestDatabase(kind);
        dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
        // The setup link is built from the public URL, so it must name the port we listen on.
        const port = await freePort();
        server = await startServer({
          GATEHOUSE_DATABASE_URL: testDatabase.url,
          GATEHOUSE_SECRET_KEY: generateMasterKey(),
          GATEHOUSE_HOST: '127.0.0.1',
          GATEHOUSE_PORT: String(port),
          GATEHOUSE_PUBLIC_URL: `http://127.0.0.1:${port}`,
          GATEHOUSE_DATA_DIR: dataDir,
          GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_TEST_LOG ?? 'silent',
        });
        adminContext = await newBoundedContext(browser, server.url);
        viewerContext = await newBoundedContext(browser, server.url);
        adminPage = await adminContext.newPage();
        viewerPage = await viewerContext.newPage();
        for (const page of [adminPage, viewerPage]) page.on('pageerror', (e) => pageErrors.push(e.message));
      },
      { timeout: 30_000 },
    );

    after(
      async () => {
        await adminContext?.close().catch(() => {});
        await viewerContext?.close().catch(() => {});
        await browser?.close().catch(() => {});
        await server?.stop().catch(() => {});
        await testDatabase?.drop().catch(() => {});
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      },
      { timeout: STEP_TIMEOUT_MS },
    );

    // Each step needs the ones before it; after a failure the rest fail naming it, not at random.
    let failedStep: string | undefined;
    function step(title: string, body: () => Promise<void>): void {
      it(title, { timeout: STEP_TIMEOUT_MS }, async () => {
        if (failedStep) throw new Error(`not run: the earlier step "${failedStep}" failed`);
        try {
          await body();
        } catch (error) {
          failedStep = title;
          throw error;
        }
      });
    }

    step(
      'creates the first admin and org from the one-time setup link and lands on the members table',
      async () => {
        assert.ok(server?.setupLink, 'an empty database gets a setup link');
        assert.ok(server.setupLink.startsWith(`${server.url}/setup?token=`), server.setupLink);
        await (await new SetupPage(adminPage).open(server.setupLink)).createFirstAdmin(admin);
        const ui = await new AdminConsole(adminPage).waitUntilLoaded(admin.email);
        await ui.memberRow(admin.email).waitFor();
        await ui.waitForMemberStatus(admin.email, 'active');
        assert.equal(
          await ui
            .memberRow(admin.email)
            .getByRole('combobox', { name: `Role of ${admin.email}` })
            .inputValue(),
          'admin',
        );
        assert.equal(
          await adminPage.getByRole('combobox', { name: 'Organization' }).inputValue(),
          admin.orgSlug,
        );
      },
    );

    step('signs out through /logout and signs in again through /login', async () => {
      await new LogoutPage(adminPage).signOut();
      assert.equal((await fetchFromPage(adminPage, '/v1/me')).status, 401, 'the session ended');
      await new LoginPage(adminPage).signIn(admin.email, admin.password);
      const ui = await new AdminConsole(adminPage).waitUntilLoaded(admin.email);
      await ui.memberRow(admin.email).waitFor();
    });

    step('adds a viewer with an initial password from the console', async () => {
      const ui = new AdminConsole(adminPage);
      await ui.addMember({ ...viewer, role: 'viewer' });
      await ui.done.filter({ hasText: `${viewer.email} was added as viewer.` }).waitFor();
      await ui.waitForMemberStatus(viewer.email, 'active');
      assert.equal(
        await ui
          .memberRow(viewer.email)
          .getByRole('combobox', { name: `Role of ${viewer.email}` })
          .inputValue(),
        'viewer',
      );
      assert.equal(
        await adminPage.getByLabel('Email', { exact: true }).inputValue(),
        '',
        'the form was reset',
      );
    });

    step('lets the viewer sign in to the console but refuses them the audit log', async () => {
      await (await new LoginPage(viewerPage).open()).signIn(viewer.email, viewer.password);
      const ui = await new AdminConsole(viewerPage).waitUntilLoaded(viewer.email);
      await ui.openSection('Audit log');
      await ui.alert.filter({ hasText: /^Not allowed \(403\): .*"audit:read"/ }).waitFor();
      assert.equal(await ui.auditTable.locator('tbody tr').count(), 0, 'no events shown');
      const refused = await fetchFromPage(viewerPage, `/v1/orgs/${admin.orgSlug}/audit`);
      assert.equal(refused.status, 403);
      assert.equal(refused.body?.error?.code, 'permission_denied');
    });

    step('suspends the viewer from the console', async () => {
      const ui = new AdminConsole(adminPage);
      await ui.suspend(viewer.email);
      await ui.waitForMemberStatus(viewer.email, 'suspended');
      await ui.done.filter({ hasText: `${viewer.email} is suspended.` }).waitFor();
      await adminPage.getByRole('button', { name: `Reactivate ${viewer.email}`, exact: true }).waitFor();
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      await adminPage.screenshot({ path: join(SCREENSHOT_DIR, `first-admin-${kind}.png`), fullPage: true });
    });

    step("refuses the suspended viewer's next request and sends them to /login", async () => {
      await viewerPage.reload();
      await viewerPage.waitForURL((url) => url.pathname === '/login');
      assert.equal(pathOf(viewerPage), '/login');
      await viewerPage.getByRole('heading', { name: 'Sign in' }).waitFor();
      const me = await fetchFromPage(viewerPage, '/v1/me');
      assert.equal(me.status, 401, JSON.stringify(me.body));
    });

    step('lists every step in the audit log and verifies the chain', async () => {
      const ui = new AdminConsole(adminPage);
      await ui.openSection('Audit log');
      const newestFirst = await ui.auditActions();
      const oldestFirst = [...newestFirst].reverse();
      const journey = [
        'setup.completed',
        'user.signed_in',
        'member.added',
        'user.suspended',
        'session.revoked',
      ];
      assert.ok(
        inOrder(oldestFirst, journey),
        `expected ${journey.join(' → ')} in ${oldestFirst.join(', ')}`,
      );
      assert.ok(oldestFirst.includes('user.signed_out'), 'the sign-out was recorded');
      assert.match(await ui.verifyChain(), /^Chain verified: \d+ events, no break\.$/);
      assert.equal(await ui.alert.isVisible(), false, 'no error shown to the admin');
      assert.deepEqual(pageErrors, [], 'no uncaught errors in the console pages');
    });
  });
}
