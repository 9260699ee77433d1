// How a connection authenticates to the IdP's token endpoint: private_key_jwt, where
// Gatehouse makes the key pair and the admin registers the public JWK at the IdP (no client
// secret anywhere), and client_secret_post. The test IdP accepts only the registered method.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { asBrowser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { startTestOidcIdp, type TestOidcIdp } from '../helpers/oidc-idp.ts';
import { CALLBACK_URL, ssoTrip } from '../helpers/sso.ts';

describeEachBackend('OIDC client authentication to the token endpoint', (get) => {
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

  it('signs in with the client secret in the token request body (client_secret_post)', async () => {
    const { admin } = await setUpOrgWithAdmin(t, 'posted', 'root@posted.example');
    const postIdp = await startTestOidcIdp({
      redirectUris: [CALLBACK_URL],
      tokenEndpointAuthMethod: 'client_secret_post',
      users: [{ sub: 'p-pat', email: 'pat@posted.example', groups: [] }],
    });
    try {
      const created = await asBrowser(t, admin, {
        method: 'POST',
        url: '/v1/orgs/posted/sso/connections',
        payload: {
          type: 'oidc',
          name: 'Posted IdP',
          issuer: postIdp.issuer,
          client_id: postIdp.clientId,
          client_secret: postIdp.clientSecret,
          token_endpoint_auth_method: 'client_secret_post',
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().id as string;
      const claim = await asBrowser(t, admin, {
        method: 'POST',
        url: '/v1/orgs/posted/sso/domains',
        payload: { domain: 'posted.example', connection_id: id },
      });
      assert.equal(claim.statusCode, 201, claim.body);
      await t.services.sso.verifyDomainByOperator(t.services.systemContext('test'), 'posted.example');
      const trip = await ssoTrip(t, `/sso/${id}/start?login_hint=pat%40posted.example`, (url) =>
        postIdp.authorize(url),
      );
      assert.equal(trip.callback.statusCode, 303, trip.callback.body);
    } finally {
      await postIdp.close();
    }
  });
});
