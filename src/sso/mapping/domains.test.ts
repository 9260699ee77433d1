import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emailDomain, normalizeDomain, verificationRecord } from './domains.ts';

describe('domains', () => {
  it('normalizes case and a trailing dot, and refuses what is not a domain name', () => {
    assert.equal(normalizeDomain(' Corp.Example. '), 'corp.example');
    for (const bad of [
      'localhost',
      'corp',
      '-corp.example',
      'corp..example',
      'co rp.example',
      'corp.example/x',
      '',
    ]) {
      assert.equal(normalizeDomain(bad), undefined, bad);
    }
  });

  it('takes the domain after the last @ of an email', () => {
    assert.equal(emailDomain('Alice@Corp.Example'), 'corp.example');
    assert.equal(emailDomain('"a@b"@corp.example'), 'corp.example');
    assert.equal(emailDomain('no-at-sign'), undefined);
    assert.equal(emailDomain('@corp.example'), undefined);
  });

  it('names the TXT record under the domain with the claim token', () => {
    assert.deepEqual(verificationRecord('corp.example', 'tok'), {
      name: '_gatehouse-verification.corp.example',
      value: 'gatehouse-domain-verification=tok',
    });
  });
});
