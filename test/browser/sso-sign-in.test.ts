// Enterprise SSO in a real Chromium (SPEC §3): an install configured headlessly (the operator
// creates the admin with an API key, the admin configures the OIDC connection, domain and
// rule over /v1, the operator verifies the domain), then a person types their email on
// /login, is sent to the IdP (oidc-provider, in-process) and back, and lands in the console
// as a member of the mapped org with the role of their group.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { TEST_PASSWORD } from '../helpers/app.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import {
  AdminConsole,
  browserTier,
  fetchFromPage,
  launchBrowser,
  newBoundedContext,
  pathOf,
} from '../helpers/browser.ts';
import { callV1 } from '../helpers/http-client.ts';
import { startTestOidcIdp, type TestOidcIdp } from '../helpers/oidc-idp.ts';
import { freePort, runGatehouse } from '../helpers/process.ts';

const STEP_TIMEOUT_MS = 20_000;

for (const kind of backendKinds()) {
  describe(`a person signs in through their company's IdP [browser] [${kind}]`, browserTier(), () => {
    let testDatabase: TestDatabase | undefined;
    let dataDir: string | undefined;
    let server: RunningServer | undefined;
    let idp: TestOidcIdp | undefined;
    let browser: Browser | undefined;
    let context: BrowserContext | undefined;
    let page: Page;

    before(
      async () => {
        browser = await launchBrowser();
        testDatabase = await createTestDatabase(kind);
        dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-sso-'));
        const port = await freePort();
        const publicUrl = `http://127.0.0.1:${port}`;
        const env = {
          GATEHOUSE_DATABASE_URL: testDatabase.url,
          GATEHOUSE_SECRET_KEY: generateMasterKey(),
          GATEHOUSE_DATA_DIR: dataDir,
          GATEHOUSE_PUBLIC_URL: publicUrl,
        };
        server = await startServer({
          ...env,
          GATEHOUSE_HOST: '127.0.0.1',
          GATEHOUSE_PORT: String(port),
          GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_TEST_LOG ?? 'silent',
        });
        idp = await startTestOidcIdp({
          redirectUris: [`${publicUrl}/sso/oidc/callback`],
          users: [
            { sub: 'okta-dana', email: 'dana@corp.example', name: 'Dana', groups: ['gatehouse-admins'] },
          ],
        });
        // Headless configuration, as an automated install does it.
        const created = await runGatehouse(
          ['admin', 'create', '--email', 'ops@corp.example', '--org', 'corp', '--api-key', 'setup', '--json'],
          { env, stdin: `${TEST_PASSWORD}\n` },
        );
        assert.equal(created.code, 0, created.stderr);
        const bearer = (JSON.parse(created.stdout) as { api_key: { token: string } }).api_key.token;
        const connection = await callV1<{ id: string }>(
          server.url,
          { bearer },
          'POST',
          '/orgs/corp/sso/connections',
          {
            type: 'oidc',
            name: 'Corp IdP',
            preset: 'okta',
            issuer: idp.issuer,
            client_id: idp.clientId,
            client_secret: idp.clientSecret,
          },
        );
        assert.equal(connection.status, 201, JSON.stringify(connection.body));
        const domain = await callV1(server.url, { bearer }, 'POST', '/orgs/corp/sso/domains', {
          domain: 'corp.example',
          connection_id: connection.body.id,
        });
        assert.equal(domain.status, 201, JSON.stringify(domain.body));
        const rule = await callV1(server.url, { bearer }, 'POST', '/orgs/corp/role-rules', {
          match: 'group',
          value: 'gatehouse-admins',
          role: 'admin',
        });
        assert.equal(rule.status, 201, JSON.stringify(rule.body));
        const verified = await runGatehouse(['admin', 'verify-domain', 'corp.example'], { env });
        assert.equal(verified.code, 0, verified.stderr);
        context = await newBoundedContext(browser, server.url);
        page = await context.newPage();
      },
      { timeout: 60_000 },
    );

    after(
      async () => {
        await context?.close().catch(() => {});
        await browser?.close().catch(() => {});
        await idp?.close().catch(() => {});
        await server?.stop().catch(() => {});
        await testDatabase?.drop().catch(() => {});
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      },
      { timeout: STEP_TIMEOUT_MS },
    );

    it('types an email on /login, signs in at the IdP and lands in the console as an admin of corp', {
      timeout: STEP_TIMEOUT_MS,
    }, async () => {
      await page.goto('/login');
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email').fill('dana@corp.example');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await new AdminConsole(page).waitUntilLoaded('dana@corp.example');
      assert.equal(pathOf(page), '/admin/');
      const me = (await fetchFromPage(page, '/v1/me')) as unknown as {
        status: number;
        body: { principal: { auth_method: string }; orgs: { slug: string; role: string }[] };
      };
      assert.equal(me.status, 200);
      assert.equal(me.body.principal.auth_method, 'session:sso');
      assert.deepEqual(
        me.body.orgs.map((o) => [o.slug, o.role]),
        [['corp', 'admin']],
      );
    });
  });
}
