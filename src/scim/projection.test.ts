// attributes / excludedAttributes (RFC 7644 §3.4.2.5) on a User document: names resolved
// case-insensitively and with their URN, sub-attributes picked out of multi-valued ones,
// `id` and `schemas` kept whatever is asked, unknown names ignored, the input untouched.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA, userAttributes } from './attributes.ts';
import type { ScimObject } from './patch/values.ts';
import { project } from './projection.ts';

const USER: ScimObject = {
  schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
  id: 'usr_1',
  userName: 'ada@example.com',
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [
    { value: 'ada@example.com', type: 'work', primary: true },
    { value: 'ada@home.example', type: 'home' },
  ],
  active: true,
  [ENTERPRISE_USER_SCHEMA]: { department: 'Research', manager: { value: 'usr_2' } },
  meta: { resourceType: 'User', version: 'W/"1"' },
};

describe('SCIM attribute projection', () => {
  it('returns only the attributes asked for, with id and schemas', () => {
    assert.deepEqual(project(USER, userAttributes, { attributes: 'USERNAME' }), {
      id: 'usr_1',
      schemas: USER.schemas,
      userName: 'ada@example.com',
    });
  });

  it('picks sub-attributes, of every element of a multi-valued attribute', () => {
    const out = project(USER, userAttributes, { attributes: 'emails.value,name.givenName' });
    assert.deepEqual(out.emails, [{ value: 'ada@example.com' }, { value: 'ada@home.example' }]);
    assert.deepEqual(out.name, { givenName: 'Ada' });
    assert.equal(out.active, undefined);
  });

  it('reads extension attributes by their URN', () => {
    const out = project(USER, userAttributes, { attributes: `${ENTERPRISE_USER_SCHEMA}:department` });
    assert.deepEqual(out[ENTERPRISE_USER_SCHEMA], { department: 'Research' });
    assert.equal(out.userName, undefined);
  });

  it('drops excluded attributes but never id, and leaves the input as it was', () => {
    const before = structuredClone(USER);
    const out = project(USER, userAttributes, { excludedAttributes: 'emails,id,meta,name.familyName' });
    assert.equal(out.emails, undefined);
    assert.equal(out.meta, undefined);
    assert.equal(out.id, 'usr_1');
    assert.deepEqual(out.name, { givenName: 'Ada' });
    assert.deepEqual(USER, before);
  });

  it('ignores names the resource does not have, and answers the document whole when nothing is asked', () => {
    assert.deepEqual(project(USER, userAttributes, { attributes: 'nosuch,userName' }), {
      id: 'usr_1',
      schemas: USER.schemas,
      userName: 'ada@example.com',
    });
    assert.equal(project(USER, userAttributes, {}), USER);
  });
});
