// Domain verification by DNS (SPEC §3): a claim is verified only when the TXT record with its
// token is published at _gatehouse-verification.<domain>. DNS is out of reach here, so the
// TXT answers come from a table the test fills, as a zone file would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertError } from '../helpers/api-keys.ts';
import { asBrowser, type Browser, createTestApp, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { backendKinds } from '../helpers/backends.ts';
import { auditEvents } from '../helpers/sso.ts';

for (const kind of backendKinds()) {
  describe(`domain verification by DNS [${kind}]`, () => {
    const zone = new Map<string, string[][]>();
    const lookups: string[] = [];
    let t: TestApp;
    let admin: Browser;
    let orgId: string;

    before(async () => {
      t = await createTestApp(
        kind,
        {},
        {
          resolveTxt: async (name) => {
            lookups.push(name);
            const answers = zone.get(name);
            if (!answers) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
            return answers;
          },
        },
      );
      ({ orgId, admin } = await setUpOrgWithAdmin(t, 'dnsorg', 'root@dnsorg.example'));
    });
    after(async () => {
      await t?.close();
    });

    it('stays unverified without the record or with a wrong token, and verifies once it is published', async () => {
      const claim = await asBrowser(t, admin, {
        method: 'POST',
        url: '/v1/orgs/dnsorg/sso/domains',
        payload: { domain: 'dnsorg.example' },
      });
      assert.equal(claim.statusCode, 201, claim.body);
      const { id, verification_record: record } = claim.json() as {
        id: string;
        verification_record: { name: string; value: string };
      };
      const verify = () =>
        asBrowser(t, admin, { method: 'POST', url: `/v1/orgs/dnsorg/sso/domains/${id}/verify` });

      assertError(await verify(), 409, 'sso_domain_verification_failed', 'domain');
      zone.set(record.name, [['gatehouse-domain-verification=someone-elses-token'], ['v=spf1 -all']]);
      assertError(await verify(), 409, 'sso_domain_verification_failed', 'domain');
      assert.deepEqual(lookups, [record.name, record.name]);

      // A TXT value longer than 255 bytes comes back in chunks; published values are joined.
      const half = Math.floor(record.value.length / 2);
      zone.set(record.name, [['v=spf1 -all'], [record.value.slice(0, half), record.value.slice(half)]]);
      const ok = await verify();
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().verified, true);
      assert.equal(ok.json().verified_by, 'dns');
      const events = await auditEvents(t, orgId, 'sso.domain_verified');
      assert.equal(events.length, 1);
      assert.equal(events[0]!.data.method, 'dns');
    });
  });
}
