// SAML sign-in end to end against an IdP that signs real responses (xml-crypto, RSA keys made
// at start): a connection configured from the IdP's metadata URL, SP metadata published,
// home-realm discovery from /login, JIT provisioning with the role of the user's groups,
// groups re-synced on the next sign-in, and an IdP certificate rotation followed by
// re-reading the metadata.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { startTestSamlIdp, type TestSamlIdp } from '../helpers/saml-idp.ts';
import { auditEvents, discoverFromLogin, samlTrip, setUpSamlConnection } from '../helpers/sso.ts';

describeEachBackend('SAML sign-in', (get) => {
  let t: TestApp;
  let idp: TestSamlIdp;
  let orgId: string;
  let admin: Browser;
  let connection: { id: string; acs_url: string; sp_entity_id: string };

  before(async () => {
    t = get();
    t.clock.set(Date.now());
    idp = await startTestSamlIdp({
      users: [
        { nameId: 'sam@saml.example', email: 'sam@saml.example', name: 'Sam', groups: ['gatehouse-admins'] },
        { nameId: 'cora@saml.example', email: 'cora@saml.example', name: 'Cora', groups: ['contractors'] },
        { nameId: 'ulf@saml.example', email: 'ulf@saml.example', name: 'Ulf', groups: [] },
      ],
    });
    ({ orgId, admin } = await setUpOrgWithAdmin(t, 'samlorg', 'root@samlorg.example'));
    connection = await setUpSamlConnection(t, admin, 'samlorg', {
      metadataUrl: idp.metadataUrl,
      domain: 'saml.example',
      rules: [
        { value: 'gatehouse-admins', role: 'admin' },
        { value: 'contractors', role: 'viewer' },
      ],
    });
  });
  after(async () => {
    await idp?.close();
  });

  async function signInFromLogin(email: string) {
    const location = await discoverFromLogin(t, email);
    assert.match(location, new RegExp(`^/sso/${connection.id}/start\\?`));
    return samlTrip(t, location, (url) =>
      idp.respond(url, { user: { nameId: email, email, groups: groupsOf(email) } }),
    );
  }

  const groups = new Map<string, string[]>([
    ['sam@saml.example', ['gatehouse-admins']],
    ['cora@saml.example', ['contractors']],
    ['ulf@saml.example', []],
  ]);
  const groupsOf = (email: string) => groups.get(email) ?? [];

  async function rolesOf(cookies: Record<string, string>) {
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', cookies });
    assert.equal(me.statusCode, 200, me.body);
    return (me.json() as { orgs: { slug: string; role: string }[] }).orgs.map((o) => [o.slug, o.role]);
  }

  it('reads the IdP metadata and publishes SP metadata naming the ACS', async () => {
    const view = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/samlorg/sso/connections/${connection.id}`,
    });
    assert.equal(view.statusCode, 200, view.body);
    assert.equal(view.json().idp_entity_id, idp.entityId);
    assert.equal(view.json().idp_certificates.length, 1);
    const metadata = await t.app.inject({ method: 'GET', url: `/sso/saml/${connection.id}/metadata` });
    assert.equal(metadata.statusCode, 200);
    assert.match(String(metadata.headers['content-type']), /samlmetadata\+xml/);
    assert.ok(metadata.body.includes(`entityID="${connection.sp_entity_id}"`), metadata.body);
    assert.ok(metadata.body.includes(`Location="${connection.acs_url}"`), metadata.body);
    assert.ok(metadata.body.includes('WantAssertionsSigned="true"'), metadata.body);
  });

  it('signs people in from /login with the role of their group, enforced on /v1', async () => {
    const sam = await signInFromLogin('sam@saml.example');
    assert.equal(sam.acs.statusCode, 303, sam.acs.body);
    assert.deepEqual(await rolesOf(sam.cookies), [['samlorg', 'admin']]);
    const cora = await signInFromLogin('cora@saml.example');
    assert.deepEqual(await rolesOf(cora.cookies), [['samlorg', 'viewer']]);
    const ulf = await signInFromLogin('ulf@saml.example');
    assert.deepEqual(await rolesOf(ulf.cookies), [['samlorg', 'user']]);
    const members = await t.app.inject({
      method: 'GET',
      url: '/v1/orgs/samlorg/members',
      cookies: cora.cookies,
    });
    assert.equal(members.statusCode, 403, 'a viewer may not list members');
  });

  it('changes the role at the next sign-in when the IdP changes the groups', async () => {
    groups.set('cora@saml.example', ['gatehouse-admins']);
    const cora = await signInFromLogin('cora@saml.example');
    assert.deepEqual(await rolesOf(cora.cookies), [['samlorg', 'admin']]);
    const changed = await auditEvents(t, orgId, 'member.role_changed');
    assert.ok(changed.some((e) => e.data.from === 'viewer' && e.data.to === 'admin'));
  });

  it('follows a certificate rotation at the IdP once the metadata is read again, accepting both during the overlap', async () => {
    await idp.rotateCertificate({ keepOld: true });
    const refreshed = await t.services.sso.refreshSamlMetadata(t.services.systemContext('test'));
    assert.equal(refreshed.changed, 1);
    const view = await asBrowser(t, admin, {
      method: 'GET',
      url: `/v1/orgs/samlorg/sso/connections/${connection.id}`,
    });
    assert.equal(view.json().idp_certificates.length, 2);
    const sam = await signInFromLogin('sam@saml.example');
    assert.equal(sam.acs.statusCode, 303, sam.acs.body);
    const events = await auditEvents(t, orgId, 'sso.idp_certificates_changed');
    assert.equal(events.length, 1);
  });

  it('reads groups from the attribute the connection names (e.g. public_metadata_groups)', async () => {
    const patched = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/samlorg/sso/connections/${connection.id}`,
      payload: { groups_attribute: 'public_metadata_groups' },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    try {
      const email = 'ulf@saml.example';
      const location = await discoverFromLogin(t, email);
      const trip = await samlTrip(t, location, (url) =>
        idp.respond(url, {
          user: { nameId: email, email, groups: ['gatehouse-admins'] },
          groupsAttribute: 'public_metadata_groups',
        }),
      );
      assert.equal(trip.acs.statusCode, 303, trip.acs.body);
      assert.deepEqual(await rolesOf(trip.cookies), [['samlorg', 'admin']]);
    } finally {
      await asBrowser(t, admin, {
        method: 'PATCH',
        url: `/v1/orgs/samlorg/sso/connections/${connection.id}`,
        payload: { groups_attribute: 'groups' },
      });
    }
  });
});
