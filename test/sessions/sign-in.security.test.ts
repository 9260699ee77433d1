import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MINUTE } from '../../src/core/clock.ts';
import type { TestApp } from '../helpers/app.ts';
import { form, hiddenField, setUpOrgWithAdmin, TEST_PASSWORD } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

async function attempt(t: TestApp, email: string, password: string, ip = '10.0.0.1') {
  const page = await t.app.inject({ method: 'GET', url: '/login', remoteAddress: ip });
  const csrf = page.cookies.find((c) => c.name === 'gatehouse_csrf')!;
  const started = process.hrtime.bigint();
  const res = await t.app.inject({
    method: 'POST',
    url: '/login',
    remoteAddress: ip,
    cookies: { gatehouse_csrf: csrf.value },
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ email, password, csrf_token: hiddenField(page.body, 'csrf_token') }),
  });
  return { res, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

describeEachBackend('sign-in under attack', (app) => {
  it('answers an unknown email exactly like a wrong password, in similar time', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'enum');
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await attempt(t, 'admin@enum.example', 'wrong password here', `10.1.0.${i}`);
      const b = await attempt(t, `nobody${i}@enum.example`, 'wrong password here', `10.2.0.${i}`);
      assert.equal(a.res.statusCode, 401);
      assert.equal(b.res.statusCode, 401);
      assert.equal(
        a.res.body.replace(/value="[^"]*"/g, ''),
        b.res.body.replace(/value="[^"]*"/g, '').replace(`nobody${i}@enum.example`, 'admin@enum.example'),
      );
      wrong.push(a.ms);
      unknown.push(b.ms);
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[2]!;
    const ratio = median(wrong) / median(unknown);
    // Both paths run one argon2id verification; a skipped hash would be ~100x faster.
    assert.ok(ratio > 0.33 && ratio < 3, `timing ratio ${ratio.toFixed(2)} reveals which emails exist`);
  });

  it('locks an account after five failures with 429 and Retry-After, for known and unknown emails alike', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'lockout');
    for (const email of ['admin@lockout.example', 'ghost@lockout.example']) {
      for (let i = 0; i < 5; i++)
        assert.equal((await attempt(t, email, 'nope nope nope', `10.3.${i}.1`)).res.statusCode, 401);
      const locked = await attempt(t, email, TEST_PASSWORD, '10.3.9.9');
      assert.equal(locked.res.statusCode, 429);
      assert.ok(Number(locked.res.headers['retry-after']) > 0);
    }
    t.clock.advance(16 * MINUTE);
    assert.equal((await attempt(t, 'admin@lockout.example', TEST_PASSWORD)).res.statusCode, 303);
  });

  it('throttles one address that sprays many accounts', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'spray');
    for (let i = 0; i < 30; i++) await attempt(t, `user${i}@spray.example`, 'nope nope nope', '10.9.9.9');
    const blocked = await attempt(t, 'admin@spray.example', TEST_PASSWORD, '10.9.9.9');
    assert.equal(blocked.res.statusCode, 429);
    assert.equal((await attempt(t, 'admin@spray.example', TEST_PASSWORD, '10.9.9.10')).res.statusCode, 303);
  });

  it('refuses a sign-in form posted without the CSRF token of its cookie', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'formcsrf');
    const res = await t.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ email: 'admin@formcsrf.example', password: TEST_PASSWORD, csrf_token: 'f'.repeat(64) }),
    });
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /CSRF/);
  });

  it('refuses a cookie-authenticated /v1 write without X-CSRF-Token', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'apicsrf');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/orgs/apicsrf/members',
      cookies: admin.cookies,
      payload: { email: 'x@apicsrf.example', name: 'X', role: 'admin' },
    });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error.code, 'csrf_failed');
    const forged = await t.app.inject({
      method: 'POST',
      url: '/v1/orgs/apicsrf/members',
      cookies: admin.cookies,
      headers: { 'x-csrf-token': 'a'.repeat(64) },
      payload: { email: 'x@apicsrf.example', name: 'X', role: 'admin' },
    });
    assert.equal(forged.statusCode, 403);
  });

  it('refuses forged, garbled and unknown session cookies and bearer tokens', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'forged');
    for (const cookie of ['x', 'A'.repeat(43), '../../etc/passwd']) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        cookies: { gatehouse_session: cookie },
      });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error.code, 'session_invalid');
    }
    const bearer = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: 'Bearer nonsense' },
    });
    assert.equal(bearer.statusCode, 401);
    assert.equal(bearer.json().error.code, 'unsupported_credential');
  });

  it('never redirects off-site after sign-in', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'redirect');
    for (const target of ['//evil.example/x', 'https://evil.example', '/\\evil.example']) {
      const page = await t.app.inject({ method: 'GET', url: '/login' });
      const csrf = page.cookies.find((c) => c.name === 'gatehouse_csrf')!;
      const res = await t.app.inject({
        method: 'POST',
        url: '/login',
        cookies: { gatehouse_csrf: csrf.value },
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({
          email: 'admin@redirect.example',
          password: TEST_PASSWORD,
          csrf_token: hiddenField(page.body, 'csrf_token'),
          return_to: target,
        }),
      });
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/admin/');
    }
  });
});
