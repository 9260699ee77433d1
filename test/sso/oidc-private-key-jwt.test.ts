// A connection that authenticates to the IdP's token endpoint with private_key_jwt: Gatehouse
// makes the key pair, the admin registers the public JWK at the IdP, and sign-in works with
// no client secret anywhere.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { asBrowser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { startTestOidcIdp, type TestOidcIdp } from '../helpers/oidc-idp.ts';
import { CALLBACK_URL, ssoTrip } from '../helpers/sso.ts';

describeEachBackend('OIDC sign-in with private_key_jwt', (get) => {
  let t: TestApp;
  let idp: TestOidcIdp | undefined;

  before(() => {
    t = get();
    t.clock.set(Date.now());
  });
  after(async () => {
    await idp?.close();
  });

  it('signs in with a client assertion made from the key Gatehouse generated', async () => {
    const { admin } = await setUpOrgWithAdmin(t, 'keyed', 'root@keyed.example');
    const created = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/keyed/sso/connections',
      payload: {
        type: 'oidc',
        name: 'Keyed IdP',
        issuer: 'https://placeholder.example',
        client_id: 'pending',
        token_endpoint_auth_method: 'private_key_jwt',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const { id, public_jwk } = created.json() as { id: string; public_jwk: Record<string, unknown> };
    idp = await startTestOidcIdp({
      redirectUris: [CALLBACK_URL],
      tokenEndpointAuthMethod: 'private_key_jwt',
      clientJwks: { keys: [public_jwk] },
      users: [{ sub: 'k-kim', email: 'kim@keyed.example', groups: [] }],
    });
    const patched = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/keyed/sso/connections/${id}`,
      payload: { issuer: idp.issuer, client_id: idp.clientId },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    const claim = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/keyed/sso/domains',
      payload: { domain: 'keyed.example', connection_id: id },
    });
    assert.equal(claim.statusCode, 201, claim.body);
    await t.services.sso.verifyDomainByOperator(t.services.systemContext('test'), 'keyed.example');
    const trip = await ssoTrip(t, `/sso/${id}/start?login_hint=kim%40keyed.example`, (url) =>
      idp!.authorize(url),
    );
    assert.equal(trip.callback.statusCode, 303, trip.callback.body);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: trip.cookies });
    assert.deepEqual(
      me.json().orgs.map((o: { slug: string; role: string }) => [o.slug, o.role]),
      [['keyed', 'user']],
    );
  });
});
