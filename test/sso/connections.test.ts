// Managing SSO over /v1 (SPEC §3): connections, claimed domains and role rules are an
// admin's, audited, validated at the edge with a code naming the field, and scoped to the org.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { assertError } from '../helpers/api-keys.ts';
import { addMember, asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { auditEvents } from '../helpers/sso.ts';

const VALID = {
  type: 'oidc',
  name: 'Okta',
  preset: 'okta',
  issuer: 'https://corp.okta.example',
  client_id: 'gatehouse',
  client_secret: 'client-secret-value-123',
};

describeEachBackend('SSO management', (get) => {
  let t: TestApp;
  let orgId: string;
  let admin: Browser;
  let viewer: Browser;
  let otherAdmin: Browser;

  before(async () => {
    t = get();
    ({ orgId, admin } = await setUpOrgWithAdmin(t, 'mgmt', 'root@mgmt.example'));
    viewer = await addMember(t, admin, 'mgmt', 'viewer', 'vera@mgmt.example');
    ({ admin: otherAdmin } = await setUpOrgWithAdmin(t, 'other', 'root@other.example'));
  });

  const create = (who: Browser, payload: Record<string, unknown>, org = 'mgmt') =>
    asBrowser(t, who, { method: 'POST', url: `/v1/orgs/${org}/sso/connections`, payload });

  it('creates a connection, audits it without its secret, and never returns the secret', async () => {
    const res = await create(admin, VALID);
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().has_client_secret, true);
    assert.deepEqual(res.json().scopes, ['openid', 'email', 'profile', 'groups']);
    assert.ok(!res.body.includes(VALID.client_secret));
    const events = await auditEvents(t, orgId, 'sso.connection_created');
    assert.equal(events.length, 1);
    assert.ok(!JSON.stringify(events[0]).includes(VALID.client_secret));
    const stored = await t.database.db.selectFrom('sso_connections').select('secret_envelope').execute();
    assert.ok(
      stored.every((r) => !String(r.secret_envelope).includes(VALID.client_secret)),
      'stored encrypted',
    );
  });

  it('makes a key pair for private_key_jwt and shows only its public half', async () => {
    const res = await create(admin, {
      ...VALID,
      name: 'Keyed',
      client_secret: undefined,
      token_endpoint_auth_method: 'private_key_jwt',
    });
    assert.equal(res.statusCode, 201, res.body);
    const jwk = res.json().public_jwk;
    assert.equal(jwk.kty, 'EC');
    assert.equal(jwk.d, undefined, 'no private part');
  });

  it('refuses bad input with a code naming the field', async () => {
    assertError(
      await create(admin, { ...VALID, name: 'A', issuer: 'http://idp.example' }),
      400,
      'sso_issuer_invalid',
      'issuer',
    );
    assertError(
      await create(admin, { ...VALID, name: 'B', issuer: 'not a url' }),
      400,
      'sso_issuer_invalid',
      'issuer',
    );
    assertError(
      await create(admin, { ...VALID, name: 'C', issuer: 'https://idp.example/?x=1' }),
      400,
      'sso_issuer_invalid',
      'issuer',
    );
    assertError(
      await create(admin, { ...VALID, name: 'D', preset: 'nope' }),
      400,
      'sso_preset_unknown',
      'preset',
    );
    assertError(
      await create(admin, { ...VALID, name: 'E', type: 'ldap' }),
      400,
      'sso_type_unsupported',
      'type',
    );
    assertError(
      await create(admin, { ...VALID, name: 'F', client_secret: undefined }),
      400,
      'sso_client_secret_required',
      'client_secret',
    );
    assertError(await create(admin, { ...VALID, name: 'Okta' }), 409, 'sso_connection_name_taken', 'name');
    const unknownField = await create(admin, { ...VALID, name: 'G', surprise: true });
    assert.equal(unknownField.statusCode, 400, unknownField.body);
  });

  it('refuses SAML connections whose metadata is missing, hostile or not a certificate', async () => {
    const saml = (extra: Record<string, unknown>) =>
      create(admin, { type: 'saml', name: `S${Math.random()}`, ...extra });
    assertError(await saml({}), 400, 'sso_saml_metadata_invalid', 'metadata_xml');
    const withDtd =
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><EntityDescriptor>&e;</EntityDescriptor>';
    assertError(await saml({ metadata_xml: withDtd }), 400, 'sso_saml_metadata_invalid', 'metadata_xml');
    assertError(
      await saml({ metadata_xml: '<not-closed' }),
      400,
      'sso_saml_metadata_invalid',
      'metadata_xml',
    );
    assertError(
      await saml({ metadata_url: 'http://idp.example/metadata' }),
      400,
      'sso_saml_metadata_invalid',
      'metadata_url',
    );
    assertError(
      await saml({
        idp_entity_id: 'https://idp.example',
        idp_sso_url: 'https://idp.example/sso',
        idp_certificates: ['not a certificate'],
      }),
      400,
      'sso_saml_metadata_invalid',
      'idp_certificates[0]',
    );
    assertError(
      await saml({ idp_entity_id: 'https://idp.example' }),
      400,
      'sso_saml_metadata_invalid',
      'idp_sso_url',
    );
  });

  it('lets only admins manage SSO, and only in their own org', async () => {
    assertError(await create(viewer, { ...VALID, name: 'V' }), 403, 'permission_denied');
    const listed = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/mgmt/sso/connections' });
    const id = listed.json().data[0].id as string;
    const foreign = await asBrowser(t, otherAdmin, {
      method: 'GET',
      url: `/v1/orgs/other/sso/connections/${id}`,
    });
    assertError(foreign, 404, 'sso_connection_not_found');
    const cross = await asBrowser(t, otherAdmin, {
      method: 'GET',
      url: `/v1/orgs/mgmt/sso/connections/${id}`,
    });
    assert.equal(cross.statusCode, 404, cross.body);
  });

  it('claims a domain once across orgs and refuses what is not a domain', async () => {
    const claim = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/mgmt/sso/domains',
      payload: { domain: 'Mgmt.Example' },
    });
    assert.equal(claim.statusCode, 201, claim.body);
    assert.equal(claim.json().domain, 'mgmt.example');
    assert.equal(claim.json().verified, false);
    assert.equal(claim.json().verification_record.name, '_gatehouse-verification.mgmt.example');
    const again = await asBrowser(t, otherAdmin, {
      method: 'POST',
      url: '/v1/orgs/other/sso/domains',
      payload: { domain: 'mgmt.example' },
    });
    assertError(again, 409, 'sso_domain_taken', 'domain');
    const bad = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/mgmt/sso/domains',
      payload: { domain: 'not_a_domain' },
    });
    assertError(bad, 400, 'sso_domain_invalid', 'domain');
  });

  it('adds and removes role rules, audited, and refuses a claim rule without a claim', async () => {
    const created = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/mgmt/role-rules',
      payload: { match: 'group', value: 'admins', role: 'admin' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const bad = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/mgmt/role-rules',
      payload: { match: 'claim', value: 'x', role: 'admin' },
    });
    assertError(bad, 400, 'role_rule_invalid', 'claim');
    const removed = await asBrowser(t, admin, {
      method: 'DELETE',
      url: `/v1/orgs/mgmt/role-rules/${created.json().id}`,
    });
    assert.equal(removed.statusCode, 204);
    assert.equal((await auditEvents(t, orgId, 'role_rule.created')).length, 1);
    assert.equal((await auditEvents(t, orgId, 'role_rule.deleted')).length, 1);
  });
});
