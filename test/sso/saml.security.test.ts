// SAML sign-in from the attacker's side: every forged, wrapped, replayed or misdirected
// response is refused with no session, and the audit log names the check that failed. The
// IdP signs with real keys (xml-crypto); the XML Signature Wrapping variants follow SAML Raider.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { type SamlResponseOptions, startTestSamlIdp, type TestSamlIdp } from '../helpers/saml-idp.ts';
import { auditEvents, postToAcs, samlTrip, setUpSamlConnection } from '../helpers/sso.ts';

const EVE = { nameId: 'eve@saml-sec.example', email: 'eve@saml-sec.example', name: 'Eve', groups: [] };
const MALLORY = {
  nameId: 'boss@saml-sec.example',
  email: 'boss@saml-sec.example',
  name: 'Boss',
  groups: ['gatehouse-admins'],
};
const XSW = ['XSW1', 'XSW2', 'XSW3', 'XSW4', 'XSW5', 'XSW6', 'XSW7', 'XSW8'] as const;

describeEachBackend('SAML sign-in refusals', (get) => {
  let t: TestApp;
  let idp: TestSamlIdp;
  let orgId: string;
  let admin: Browser;
  let connection: { id: string; acs_url: string; sp_entity_id: string };

  before(async () => {
    t = get();
    t.clock.set(Date.now());
    idp = await startTestSamlIdp({ users: [EVE] });
    ({ orgId, admin } = await setUpOrgWithAdmin(t, 'samlsec', 'boss@saml-sec.example'));
    connection = await setUpSamlConnection(t, admin, 'samlsec', {
      metadataUrl: idp.metadataUrl,
      domain: 'saml-sec.example',
    });
  });
  after(async () => {
    await idp?.close();
  });

  const start = () => `/sso/${connection.id}/start`;

  async function refused(options: SamlResponseOptions, status: number, step?: string, detail?: RegExp) {
    const before = (await auditEvents(t, orgId, 'user.sign_in_failed')).length;
    const trip = await samlTrip(t, start(), (url) => idp.respond(url, { user: EVE, ...options }));
    assert.equal(trip.acs.statusCode, status, trip.acs.body);
    assert.equal(trip.cookies.gatehouse_session, undefined, 'no session after a refusal');
    const failures = await auditEvents(t, orgId, 'user.sign_in_failed');
    assert.equal(failures.length, before + 1, 'one audited failure');
    if (step) {
      assert.equal(failures[0]!.data.step, step, JSON.stringify(failures[0]!.data));
      if (detail) assert.match(String(failures[0]!.data.detail), detail);
    }
    return failures[0]!;
  }

  it('signs in the honest user (the baseline the refusals below differ from)', async () => {
    const trip = await samlTrip(t, start(), (url) => idp.respond(url, { user: EVE }));
    assert.equal(trip.acs.statusCode, 303, trip.acs.body);
    assert.ok(trip.cookies.gatehouse_session);
  });

  it('refuses an unsigned assertion, also inside a signed response', async () => {
    await refused({ signAssertion: false }, 401, 'signature');
    await refused({ signAssertion: false, signResponse: true }, 401, 'signature');
  });

  it('refuses an assertion signed with a certificate the IdP metadata does not name', async () => {
    await refused({ signWith: 'attacker' }, 401, 'signature');
  });

  for (const wrap of XSW) {
    it(`refuses the ${wrap} signature-wrapping variant smuggling in another user`, async () => {
      const options: SamlResponseOptions =
        wrap === 'XSW1' || wrap === 'XSW2'
          ? { wrap, evilUser: MALLORY, signAssertion: false }
          : { wrap, evilUser: MALLORY };
      await refused(options, 401, 'signature');
    });
  }

  it('refuses SHA-1 signatures unless the connection allows them', async () => {
    await refused({ signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha1' }, 401, 'signature', /SHA-1/);
  });

  it('refuses a response carrying a DTD or an external entity, before parsing it', async () => {
    const withDoctype = (xml: string) =>
      xml.replace(
        /^(<\?xml[^>]*\?>)?/,
        (decl) => `${decl}<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>`,
      );
    await refused({ mutateXml: withDoctype }, 401, 'saml_response', /DTD/);
  });

  it('never reads past a comment inside NameID (no takeover of boss@ through boss@…<!---->.evil)', async () => {
    const attacker = {
      nameId: 'boss@saml-sec.example.evil.example',
      email: 'boss@saml-sec.example.evil.example',
      groups: [],
    };
    const comment = (xml: string) =>
      xml.replaceAll('boss@saml-sec.example.evil.example', 'boss@saml-sec.example<!---->.evil.example');
    const trip = await samlTrip(t, start(), (url) =>
      idp.respond(url, { user: attacker, mutateXml: comment }),
    );
    assert.notEqual(trip.acs.statusCode, 303, 'not signed in');
    assert.equal(trip.cookies.gatehouse_session, undefined);
    const linked = await t.database.db.selectFrom('sso_identities').select(['subject', 'email']).execute();
    assert.ok(!linked.some((l) => l.email === 'boss@saml-sec.example'), JSON.stringify(linked));
  });

  it('refuses a wrong audience, a wrong recipient and a wrong destination', async () => {
    await refused({ audience: 'https://other-sp.example/metadata' }, 401, 'conditions', /audience/);
    await refused({ recipient: 'https://evil.example/acs' }, 401, 'recipient');
    await refused({ destination: 'https://evil.example/acs' }, 401, 'recipient', /Destination/);
  });

  it('refuses an assertion from another issuer', async () => {
    await refused({ issuer: 'https://evil-idp.example' }, 401, 'issuer');
  });

  it('refuses an expired and a not-yet-valid assertion, beyond the allowed skew', async () => {
    const now = Date.now();
    await refused(
      { notBefore: new Date(now - 3600_000), notOnOrAfter: new Date(now - 120_000) },
      401,
      'conditions',
    );
    await refused(
      { notBefore: new Date(now + 600_000), notOnOrAfter: new Date(now + 900_000) },
      401,
      'conditions',
    );
  });

  it('refuses a response to another AuthnRequest (a forged InResponseTo)', async () => {
    await refused({ inResponseTo: '_not-the-request-this-browser-made' }, 401);
  });

  it('refuses a replayed response: the flow is used, and on its own the assertion id is remembered', async () => {
    const trip = await samlTrip(t, start(), (url) => idp.respond(url, { user: EVE }));
    assert.equal(trip.acs.statusCode, 303);
    const replay = await postToAcs(t, trip.posted.path, trip.posted.form, { gatehouse_sso: 'anything' });
    assert.equal(replay.statusCode, 400, replay.body);
  });

  it('refuses an IdP-initiated response unless the connection allows it, and then a replay of it', async () => {
    const unsolicited = await idp.unsolicited({
      acsUrl: connection.acs_url,
      audience: connection.sp_entity_id,
      user: EVE,
    });
    const refusedPost = await postToAcs(t, unsolicited.acsUrl, {
      SAMLResponse: unsolicited.form.SAMLResponse,
    });
    assert.equal(refusedPost.statusCode, 403, refusedPost.body);
    const allow = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/samlsec/sso/connections/${connection.id}`,
      payload: { allow_unsolicited: true },
    });
    assert.equal(allow.statusCode, 200, allow.body);
    try {
      const fresh = await idp.unsolicited({
        acsUrl: connection.acs_url,
        audience: connection.sp_entity_id,
        user: EVE,
      });
      const first = await postToAcs(t, fresh.acsUrl, { SAMLResponse: fresh.form.SAMLResponse });
      assert.equal(first.statusCode, 303, first.body);
      const again = await postToAcs(t, fresh.acsUrl, { SAMLResponse: fresh.form.SAMLResponse });
      assert.equal(again.statusCode, 401, again.body);
      const replays = (await auditEvents(t, orgId, 'user.sign_in_failed')).filter(
        (e) => e.data.reason === 'assertion_replayed',
      );
      assert.equal(replays.length, 1);
    } finally {
      await asBrowser(t, admin, {
        method: 'PATCH',
        url: `/v1/orgs/samlsec/sso/connections/${connection.id}`,
        payload: { allow_unsolicited: false },
      });
    }
  });

  it('refuses a response posted by a browser that did not start the sign-in', async () => {
    const trip = await samlTrip(t, start(), (url) => idp.respond(url, { user: EVE }), {
      dropFlowCookie: true,
    });
    assert.equal(trip.acs.statusCode, 400, trip.acs.body);
    assert.equal(trip.cookies.gatehouse_session, undefined);
  });
});
