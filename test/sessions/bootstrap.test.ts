import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { HOUR, MINUTE } from '../../src/core/clock.ts';
import type { TestApp } from '../helpers/app.ts';
import { createTestApp, form, hiddenField, setUpOrgWithAdmin, TEST_PASSWORD } from '../helpers/app.ts';
import { backendKinds } from '../helpers/backends.ts';

async function submitSetup(t: TestApp, link: string, fields: Record<string, string>) {
  const url = new URL(link);
  const page = await t.app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
  assert.equal(page.statusCode, 200, page.body);
  const csrf = page.cookies.find((c) => c.name === 'gatehouse_csrf')!;
  return t.app.inject({
    method: 'POST',
    url: '/setup',
    cookies: { gatehouse_csrf: csrf.value },
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({
      csrf_token: hiddenField(page.body, 'csrf_token'),
      token: url.searchParams.get('token') ?? '',
      name: 'First Admin',
      email: 'first@boot.example',
      password: TEST_PASSWORD,
      org_name: 'Boot Inc',
      org_slug: 'boot',
      ...fields,
    }),
  });
}

for (const kind of backendKinds()) {
  describe(`first-start setup link [${kind}]`, () => {
    // Setup only works on an empty instance: every test gets its own database.
    async function app(): Promise<TestApp> {
      const t = await createTestApp(kind);
      apps.push(t);
      return t;
    }
    const apps: TestApp[] = [];
    after(async () => {
      for (const t of apps) await t.close();
    });

    it('creates the first admin and org once, signs them in, and refuses the link afterwards', async () => {
      const t = await app();
      const link = await t.services.bootstrap.issueSetupLinkIfEmpty(t.services.systemContext('test'));
      assert.ok(link);
      assert.match(link, /^http:\/\/localhost:8080\/setup\?token=[A-Za-z0-9_-]{43}$/);
      const res = await submitSetup(t, link, {});
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/admin/');
      const session = res.cookies.find((c) => c.name === 'gatehouse_session');
      assert.ok(session);
      const me = (
        await t.app.inject({ method: 'GET', url: '/v1/me', cookies: { gatehouse_session: session.value } })
      ).json();
      assert.equal(me.user.email, 'first@boot.example');
      assert.deepEqual(
        me.orgs.map((o: { slug: string; role: string }) => [o.slug, o.role]),
        [['boot', 'admin']],
      );
      const again = await t.app.inject({ method: 'GET', url: new URL(link).pathname + new URL(link).search });
      assert.equal(again.statusCode, 400);
      assert.equal(
        await t.services.bootstrap.issueSetupLinkIfEmpty(t.services.systemContext('test')),
        undefined,
      );
    });

    it('keeps the form and says which field is wrong when the input is bad, and the link still works', async () => {
      const t = await app();
      const link = (await t.services.bootstrap.issueSetupLinkIfEmpty(t.services.systemContext('test')))!;
      const weak = await submitSetup(t, link, { password: 'short' });
      assert.equal(weak.statusCode, 400);
      assert.match(weak.body, /at least 12 characters/);
      assert.match(weak.body, /value="first@boot.example"/);
      const badSlug = await submitSetup(t, link, { org_slug: 'Not A Slug' });
      assert.equal(badSlug.statusCode, 400);
      const ok = await submitSetup(t, link, {});
      assert.equal(ok.statusCode, 303);
    });

    it('expires the setup link after one hour', async () => {
      const t = await app();
      const link = (await t.services.bootstrap.issueSetupLinkIfEmpty(t.services.systemContext('test')))!;
      t.clock.advance(HOUR + MINUTE);
      const page = await t.app.inject({ method: 'GET', url: new URL(link).pathname + new URL(link).search });
      assert.equal(page.statusCode, 400);
      assert.match(page.body, /not valid, has expired or was already used/);
    });

    it('refuses a forged setup token', async () => {
      const t = await app();
      await t.services.bootstrap.issueSetupLinkIfEmpty(t.services.systemContext('test'));
      const page = await t.app.inject({ method: 'GET', url: `/setup?token=${'A'.repeat(43)}` });
      assert.equal(page.statusCode, 400);
    });

    it('issues no link once a user exists', async () => {
      const t = await app();
      await setUpOrgWithAdmin(t, 'exists');
      assert.equal(
        await t.services.bootstrap.issueSetupLinkIfEmpty(t.services.systemContext('test')),
        undefined,
      );
    });
  });
}
