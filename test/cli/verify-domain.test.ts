// `gatehouse admin verify-domain DOMAIN` (SPEC §3): for installs that cannot reach DNS, the
// operator asserts an org's claimed domain from the shell; it is audited as the operator's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { asBrowser, type Browser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { linesOf, runGatehouse } from '../helpers/process.ts';
import { auditEvents } from '../helpers/sso.ts';

describeEachBackend('gatehouse admin verify-domain', (get) => {
  let t: TestApp;
  let admin: Browser;
  let orgId: string;
  let dataDir: string;
  let env: Record<string, string>;

  before(async () => {
    t = get();
    ({ orgId, admin } = await setUpOrgWithAdmin(t, 'airgap', 'root@airgap.example'));
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-verify-domain-'));
    env = {
      GATEHOUSE_DATABASE_URL: t.testDatabase.url,
      GATEHOUSE_SECRET_KEY: generateMasterKey(),
      GATEHOUSE_DATA_DIR: dataDir,
    };
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('verifies a claimed domain, audited as the operator’s, and prints it as JSON with --json', async () => {
    const claim = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/airgap/sso/domains',
      payload: { domain: 'airgap.example' },
    });
    assert.equal(claim.statusCode, 201, claim.body);
    const run = await runGatehouse(['admin', 'verify-domain', 'AirGap.Example', '--json'], { env });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      domain: 'airgap.example',
      id: claim.json().id,
      verified: true,
      verified_by: 'operator',
    });
    const listed = await asBrowser(t, admin, { method: 'GET', url: '/v1/orgs/airgap/sso/domains' });
    assert.equal(listed.json().data[0].verified, true);
    const events = await auditEvents(t, orgId, 'sso.domain_verified');
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]!.actor, { kind: 'system', id: 'operator' });
    assert.equal(events[0]!.data.method, 'operator');
  });

  it('exits 1 with one line naming a domain no organization has claimed', async () => {
    const run = await runGatehouse(['admin', 'verify-domain', 'unclaimed.example'], { env });
    assert.equal(run.code, 1, run.stderr);
    const lines = linesOf(run.stderr);
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /unclaimed\.example/);
    assert.equal(run.stdout, '');
  });
});
