import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatehouseError } from '../../core/errors.ts';
import { groupAttributes, userAttributes } from '../attributes.ts';
import { parsePatchPath } from './path.ts';

function described(path: string, resource = userAttributes) {
  const parsed = parsePatchPath(path, resource);
  return {
    attribute: parsed.attribute.name,
    sub: parsed.sub?.name,
    filter: parsed.filter?.kind,
  };
}

function refused(path: string, code: string, pattern: RegExp, resource = userAttributes): void {
  assert.throws(
    () => parsePatchPath(path, resource),
    (error: unknown) => {
      assert.ok(isGatehouseError(error), String(error));
      assert.equal(error.code, code);
      assert.equal(error.status, 400);
      assert.equal(error.field, 'path');
      assert.match(error.message, pattern);
      return true;
    },
    path,
  );
}

describe('SCIM PATCH paths (RFC 7644 §3.5.2)', () => {
  it('reads the attribute paths Okta and Entra ID send, in any case', () => {
    assert.deepEqual(described('active'), { attribute: 'active', sub: undefined, filter: undefined });
    assert.deepEqual(described('name.givenName'), { attribute: 'name', sub: 'givenName', filter: undefined });
    assert.deepEqual(described('DisplayName'), {
      attribute: 'displayName',
      sub: undefined,
      filter: undefined,
    });
    assert.deepEqual(described('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager'), {
      attribute: 'manager',
      sub: undefined,
      filter: undefined,
    });
    assert.deepEqual(described('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department'), {
      attribute: 'department',
      sub: undefined,
      filter: undefined,
    });
  });

  it('reads value paths with and without a sub-attribute after the filter', () => {
    assert.deepEqual(described('members[value eq "usr_01"]', groupAttributes), {
      attribute: 'members',
      sub: undefined,
      filter: 'compare',
    });
    assert.deepEqual(described('emails[type eq "work"].value'), {
      attribute: 'emails',
      sub: 'value',
      filter: 'compare',
    });
    assert.deepEqual(described('addresses[type eq "work"].streetAddress'), {
      attribute: 'addresses',
      sub: 'streetAddress',
      filter: 'compare',
    });
    assert.deepEqual(described('phoneNumbers[type eq "mobile" and primary eq true].value'), {
      attribute: 'phoneNumbers',
      sub: 'value',
      filter: 'and',
    });
    const parsed = parsePatchPath('emails[type eq "work"].value', userAttributes);
    assert.equal(parsed.filter?.kind === 'compare' && parsed.filter.path.sub?.name, 'type');
  });

  it('refuses paths that name nothing, or filter what holds one value', () => {
    refused('shoeSize', 'scim_invalid_path', /names no attribute of a User/);
    refused('name.nickname', 'scim_invalid_path', /names no attribute of a User/);
    refused('members', 'scim_invalid_path', /names no attribute of a User/);
    refused('displayName[value eq "x"]', 'scim_invalid_path', /holds one value/);
    refused('emails[type eq "work"].colour', 'scim_invalid_path', /no sub-attribute "colour" of emails/);
    refused('emails[type eq "work"', 'scim_invalid_path', /unbalanced brackets/);
    refused('', 'scim_invalid_path', /is empty/);
    refused('emails[colour eq "red"]', 'scim_invalid_filter', /emails has no sub-attribute "colour"/);
    refused('emails[type eq]', 'scim_invalid_filter', /not valid SCIM filter syntax/);
  });
});
