// SSO enforcement (SPEC §3): an org that requires SSO refuses password sign-in to its members
// whether the password is right or wrong (the answer says nothing about it), except for the
// designated break-glass admin, whose password sign-in is audited.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { assertError } from '../helpers/api-keys.ts';
import {
  addMember,
  asBrowser,
  type Browser,
  form,
  hiddenField,
  setUpOrgWithAdmin,
  signIn,
  TEST_PASSWORD,
  type TestApp,
} from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { auditEvents } from '../helpers/sso.ts';

describeEachBackend('SSO enforcement', (get) => {
  let t: TestApp;
  let orgId: string;
  let admin: Browser;
  let member: Browser;

  before(async () => {
    t = get();
    ({ orgId, admin } = await setUpOrgWithAdmin(t, 'strict', 'root@strict.example'));
    member = await addMember(t, admin, 'strict', 'user', 'mia@strict.example');
  });

  async function passwordSignIn(email: string, password: string) {
    const page = await t.app.inject({ method: 'GET', url: '/login' });
    const csrf = page.cookies.find((c) => c.name === 'gatehouse_csrf')!;
    return t.app.inject({
      method: 'POST',
      url: '/login',
      cookies: { gatehouse_csrf: csrf.value },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ email, password, csrf_token: hiddenField(page.body, 'csrf_token') }),
    });
  }

  it('refuses a break-glass account that is not an active admin of the org', async () => {
    const res = await asBrowser(t, admin, {
      method: 'PATCH',
      url: '/v1/orgs/strict',
      payload: { break_glass_user_id: member.userId },
    });
    assertError(res, 400, 'org_break_glass_invalid', 'break_glass_user_id');
  });

  it('refuses password sign-in to members once SSO is required, with the right password or a wrong one', async () => {
    const res = await asBrowser(t, admin, {
      method: 'PATCH',
      url: '/v1/orgs/strict',
      payload: { sso_required: true },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().sso_required, true);
    const right = await passwordSignIn('mia@strict.example', TEST_PASSWORD);
    const wrong = await passwordSignIn('mia@strict.example', 'not the password at all');
    for (const attempt of [right, wrong]) {
      assert.equal(attempt.statusCode, 403, attempt.body);
      assert.match(attempt.body, /requires single sign-on/);
      assert.ok(!attempt.cookies.some((c) => c.name === 'gatehouse_session'));
    }
    const refusals = (await auditEvents(t, orgId, 'user.sign_in_failed')).filter(
      (e) => e.data.reason === 'sso_required',
    );
    assert.equal(refusals.length, 2);
    // The admin is a member too, and not yet the break-glass account.
    assert.equal((await passwordSignIn('root@strict.example', TEST_PASSWORD)).statusCode, 403);
  });

  it('lets the break-glass admin sign in with a password, and audits it', async () => {
    const res = await asBrowser(t, admin, {
      method: 'PATCH',
      url: '/v1/orgs/strict',
      payload: { break_glass_user_id: admin.userId },
    });
    assert.equal(res.statusCode, 200, res.body);
    const breakGlass = await signIn(t, 'root@strict.example');
    assert.equal(breakGlass.userId, admin.userId);
    const events = await auditEvents(t, orgId, 'user.break_glass_signed_in');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.actor.id, admin.userId);
    assert.equal((await passwordSignIn('mia@strict.example', TEST_PASSWORD)).statusCode, 403);
  });

  it('lets members sign in with passwords again when SSO is no longer required', async () => {
    const res = await asBrowser(t, admin, {
      method: 'PATCH',
      url: '/v1/orgs/strict',
      payload: { sso_required: false },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await passwordSignIn('mia@strict.example', TEST_PASSWORD)).statusCode, 303);
  });
});
