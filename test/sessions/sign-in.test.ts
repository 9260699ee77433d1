import assert from 'node:assert/strict';
import { it } from 'node:test';
import { HOUR, MINUTE } from '../../src/core/clock.ts';
import {
  addMember,
  asBrowser,
  form,
  hiddenField,
  setUpOrgWithAdmin,
  signIn,
  TEST_PASSWORD,
} from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

describeEachBackend('local sign-in and sessions', (app) => {
  it('signs in through /login and reaches /v1/me with the session cookie', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'signin');
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: admin.cookies });
    assert.equal(me.statusCode, 200);
    const body = me.json();
    assert.equal(body.user.email, 'admin@signin.example');
    assert.equal(body.orgs[0].slug, 'signin');
    assert.equal(body.orgs[0].role, 'admin');
    assert.match(body.csrf_token, /^[0-9a-f]{64}$/);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax and without Secure on plain-http localhost', async () => {
    const t = app();
    await setUpOrgWithAdmin(t, 'cookies');
    const page = await t.app.inject({ method: 'GET', url: '/login' });
    const csrfCookie = page.cookies.find((c) => c.name === 'gatehouse_csrf');
    assert.ok(csrfCookie);
    const res = await t.app.inject({
      method: 'POST',
      url: '/login',
      cookies: { gatehouse_csrf: csrfCookie.value },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({
        email: 'admin@cookies.example',
        password: TEST_PASSWORD,
        csrf_token: hiddenField(page.body, 'csrf_token'),
      }),
    });
    assert.equal(res.statusCode, 303);
    const raw = String(res.headers['set-cookie']);
    assert.match(raw, /gatehouse_session=[A-Za-z0-9_-]{43}/);
    assert.match(raw, /HttpOnly/);
    assert.match(raw, /SameSite=Lax/);
  });

  it('rotates the session id at sign-in and ends the session the browser had before', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'rotate');
    const before = admin.cookies.gatehouse_session;
    const again = await signIn(t, 'admin@rotate.example');
    assert.notEqual(again.cookies.gatehouse_session, before);
    const old = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: { gatehouse_session: before! } });
    assert.equal(old.statusCode, 200, 'a separate browser keeps its own session');
  });

  it('signs out with POST /logout and the old cookie stops working', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'logout');
    const page = await t.app.inject({ method: 'GET', url: '/logout', cookies: admin.cookies });
    const res = await t.app.inject({
      method: 'POST',
      url: '/logout',
      cookies: admin.cookies,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ csrf_token: hiddenField(page.body, 'csrf_token') }),
    });
    assert.equal(res.statusCode, 303);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: admin.cookies });
    assert.equal(me.statusCode, 401);
    assert.equal(me.json().error.code, 'session_invalid');
  });

  it('expires a session after the idle timeout and after the absolute lifetime', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'timeouts');
    t.clock.advance(11 * HOUR);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', cookies: admin.cookies })).statusCode,
      200,
    );
    t.clock.advance(12 * HOUR + MINUTE);
    const idle = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: admin.cookies });
    assert.equal(idle.statusCode, 401);
    assert.equal(idle.json().error.code, 'session_expired');

    const fresh = await signIn(t, 'admin@timeouts.example');
    for (let i = 0; i < 15; i++) {
      t.clock.advance(11 * HOUR);
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/v1/me', cookies: fresh.cookies })).statusCode,
        200,
      );
    }
    t.clock.advance(11 * HOUR);
    const absolute = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: fresh.cookies });
    assert.equal(absolute.statusCode, 401, 'seven days after sign-in the session ends however active it was');
  });

  it('lists own sessions and revokes one of them', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mysessions');
    const second = await signIn(t, 'admin@mysessions.example');
    const list = await t.app.inject({ method: 'GET', url: '/v1/me/sessions', cookies: admin.cookies });
    assert.equal(list.statusCode, 200);
    const sessions = list.json().data as { id: string; current: boolean }[];
    assert.equal(sessions.length, 2);
    const other = sessions.find((s) => !s.current);
    assert.ok(other);
    const revoke = await asBrowser(t, admin, { method: 'DELETE', url: `/v1/me/sessions/${other.id}` });
    assert.equal(revoke.statusCode, 204);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', cookies: second.cookies })).statusCode,
      401,
    );
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', cookies: admin.cookies })).statusCode,
      200,
    );
  });

  it('lets an admin end every session of a member', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'adminrevoke');
    const member = await addMember(t, admin, 'adminrevoke', 'user', 'u@adminrevoke.example');
    const res = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/adminrevoke/members/${member.userId}/sessions`,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().revoked, 1);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', cookies: member.cookies })).statusCode,
      401,
    );
  });

  it('ends a member’s sessions at once when they are suspended or their role changes', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'lifecycle');
    const viewer = await addMember(t, admin, 'lifecycle', 'viewer', 'v@lifecycle.example');
    const promote = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/lifecycle/members/${viewer.userId}`,
      payload: { role: 'user' },
    });
    assert.equal(promote.statusCode, 200);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', cookies: viewer.cookies })).statusCode,
      401,
    );

    const again = await signIn(t, 'v@lifecycle.example');
    const suspend = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/lifecycle/members/${viewer.userId}`,
      payload: { status: 'suspended' },
    });
    assert.equal(suspend.statusCode, 200);
    assert.equal(suspend.json().status, 'suspended');
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', cookies: again.cookies })).statusCode,
      401,
    );
    await assert.rejects(signIn(t, 'v@lifecycle.example'), /403/);
  });
});
