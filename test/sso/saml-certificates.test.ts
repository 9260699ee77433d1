// The IdP's signing certificates over time (SPEC §3): a certificate close to its expiry is
// warned about once in the audit log when the metadata is read, and a rotation without
// overlap (only the new certificate published) stops the old one being trusted.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { startTestSamlIdp, type TestSamlIdp } from '../helpers/saml-idp.ts';
import { auditEvents, samlTrip, setUpSamlConnection } from '../helpers/sso.ts';

const USER = { nameId: 'rita@certs.example', email: 'rita@certs.example', groups: [] };

describeEachBackend('SAML IdP certificates', (get) => {
  let t: TestApp;
  let idp: TestSamlIdp;
  let orgId: string;
  let admin: Browser;
  let connection: { id: string };

  before(async () => {
    t = get();
    t.clock.set(Date.now());
    // Expires in 10 days: inside the 30-day warning window.
    idp = await startTestSamlIdp({ users: [USER], certificateValidDays: 10 });
    ({ orgId, admin } = await setUpOrgWithAdmin(t, 'certs', 'root@certs.example'));
    connection = await setUpSamlConnection(t, admin, 'certs', {
      metadataUrl: idp.metadataUrl,
      domain: 'certs.example',
    });
  });
  after(async () => {
    await idp?.close();
  });

  it('warns once, in the audit log, of a certificate that expires within 30 days', async () => {
    const first = await t.services.sso.refreshSamlMetadata(t.services.systemContext('test'));
    assert.equal(first.expiring, 1);
    await t.services.sso.refreshSamlMetadata(t.services.systemContext('test'));
    const warnings = await auditEvents(t, orgId, 'sso.idp_certificate_expiring');
    assert.equal(warnings.length, 1, 'one warning per certificate, not one per refresh');
    assert.equal(warnings[0]!.target?.id, connection.id);
  });

  it('stops trusting the old certificate once the IdP publishes only the new one', async () => {
    const beforeRotation = await samlTrip(t, `/sso/${connection.id}/start`, (url) =>
      idp.respond(url, { user: USER }),
    );
    assert.equal(beforeRotation.acs.statusCode, 303, beforeRotation.acs.body);
    // The IdP switches keys; until the metadata is read again Gatehouse still holds the old certificate.
    await idp.rotateCertificate({ keepOld: false });
    const stale = await samlTrip(t, `/sso/${connection.id}/start`, (url) => idp.respond(url, { user: USER }));
    assert.equal(stale.acs.statusCode, 401, 'signed by a key Gatehouse does not know yet');
    const refreshed = await t.services.sso.refreshSamlMetadata(t.services.systemContext('test'));
    assert.equal(refreshed.changed, 1);
    const after = await samlTrip(t, `/sso/${connection.id}/start`, (url) => idp.respond(url, { user: USER }));
    assert.equal(after.acs.statusCode, 303, after.acs.body);
  });
});
