import assert from 'node:assert/strict';
import { it } from 'node:test';
import { asBrowser, setUpOrgWithAdmin } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

describeEachBackend('request validation at the edge', (app) => {
  it('refuses an unknown body field with 400 naming it, and changes nothing', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'strict');
    const res = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/strict/members',
      payload: { email: 'x@strict.example', name: 'X', role: 'user', is_superuser: true },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'invalid_request');
    assert.equal(res.json().error.field, 'is_superuser');
    const members = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/strict/members' });
    assert.equal(members.json().data.length, 1);
  });

  it('names a missing field and a bad enum value', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'named');
    const missing = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/named/members',
      payload: { name: 'X', role: 'user' },
    });
    assert.equal(missing.json().error.field, 'email');
    const badRole = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/named/members',
      payload: { email: 'x@named.example', name: 'X', role: 'owner' },
    });
    assert.equal(badRole.statusCode, 400);
    assert.match(badRole.json().error.field, /^role/);
  });
});
