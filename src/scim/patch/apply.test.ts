import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatehouseError } from '../../core/errors.ts';
import { ENTERPRISE_USER_SCHEMA, groupAttributes, userAttributes } from '../attributes.ts';
import { applyPatch, PATCH_OP_SCHEMA, type ScimObject } from './apply.ts';

const patch = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

function user(): ScimObject {
  return {
    userName: 'ada@example.com',
    active: true,
    displayName: 'Ada',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
  };
}

function refused(body: unknown, code: string, pattern: RegExp, document = user()): void {
  const before = structuredClone(document);
  assert.throws(
    () => applyPatch(document, body, userAttributes),
    (error: unknown) => {
      assert.ok(isGatehouseError(error), String(error));
      assert.equal(error.code, code);
      assert.equal(error.status, 400);
      assert.match(error.message, pattern);
      return true;
    },
  );
  assert.deepEqual(document, before, 'nothing the caller holds was changed');
}

describe('SCIM PATCH as Okta sends it', () => {
  it('deactivates with a path-less replace of active', () => {
    const { document } = applyPatch(
      user(),
      patch({ op: 'replace', value: { active: false } }),
      userAttributes,
    );
    assert.equal(document.active, false);
    assert.equal(document.userName, 'ada@example.com', 'the rest is untouched');
  });

  it('removes a group member by a value filter, and adds some', () => {
    const { members } = applyPatch(
      {},
      patch(
        { op: 'remove', path: 'members[value eq "usr_c"]' },
        { op: 'add', path: 'members', value: [{ value: 'usr_a' }, { value: 'usr_b', display: 'Bea' }] },
      ),
      groupAttributes,
    );
    assert.deepEqual([...members.add], ['usr_a', 'usr_b']);
    assert.deepEqual([...members.remove], ['usr_c']);
    assert.equal(members.replaceWith, undefined);
  });
});

describe('SCIM PATCH as Microsoft Entra ID sends it', () => {
  it('reads capitalised ops and string booleans', () => {
    const { document } = applyPatch(
      user(),
      patch({ op: 'Replace', path: 'active', value: 'False' }),
      userAttributes,
    );
    assert.equal(document.active, false);
    const again = applyPatch(document, patch({ op: 'Add', path: 'active', value: 'True' }), userAttributes);
    assert.equal(again.document.active, true);
  });

  it('makes the element a filtered replace names when there is none yet', () => {
    const { document } = applyPatch(
      user(),
      patch(
        { op: 'replace', path: 'phoneNumbers[type eq "mobile"].value', value: '+44 20 7946 0000' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'ada@new.example' },
      ),
      userAttributes,
    );
    assert.deepEqual(document.phoneNumbers, [{ type: 'mobile', value: '+44 20 7946 0000' }]);
    assert.deepEqual(document.emails, [{ value: 'ada@new.example', type: 'work', primary: true }]);
  });

  it('sets and removes the enterprise manager, sent as a bare id, and dotted keys without a path', () => {
    const { document } = applyPatch(
      user(),
      patch(
        { op: 'add', path: `${ENTERPRISE_USER_SCHEMA}:manager`, value: 'usr_boss' },
        {
          op: 'replace',
          value: {
            displayName: 'Ada L.',
            'name.givenName': 'Augusta',
            [`${ENTERPRISE_USER_SCHEMA}:department`]: 'Eng',
          },
        },
        { op: 'add', value: { [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '1815' } } },
      ),
      userAttributes,
    );
    assert.deepEqual(document[ENTERPRISE_USER_SCHEMA], {
      manager: { value: 'usr_boss' },
      department: 'Eng',
      employeeNumber: '1815',
    });
    assert.equal(document.displayName, 'Ada L.');
    assert.deepEqual(document.name, { givenName: 'Augusta', familyName: 'Lovelace' });
    const removed = applyPatch(
      document,
      patch(
        { op: 'remove', path: `${ENTERPRISE_USER_SCHEMA}:manager` },
        { op: 'remove', path: `${ENTERPRISE_USER_SCHEMA}:department` },
        { op: 'remove', path: `${ENTERPRISE_USER_SCHEMA}:employeeNumber` },
      ),
      userAttributes,
    );
    assert.equal(removed.document[ENTERPRISE_USER_SCHEMA], undefined, 'an emptied extension goes');
  });

  it('removes members listed in the value, and replaces them all', () => {
    const removed = applyPatch(
      {},
      patch({ op: 'Remove', path: 'members', value: [{ value: 'usr_a' }, { value: 'usr_b' }] }),
      groupAttributes,
    );
    assert.deepEqual([...removed.members.remove], ['usr_a', 'usr_b']);
    const replaced = applyPatch(
      {},
      patch(
        { op: 'replace', path: 'members', value: [{ value: 'usr_x' }] },
        { op: 'add', path: 'members', value: [{ value: 'usr_y' }] },
        { op: 'remove', path: 'members[value eq "usr_x"]' },
      ),
      groupAttributes,
    );
    assert.deepEqual([...(replaced.members.replaceWith ?? [])], ['usr_y']);
    assert.equal(replaced.members.add.size + replaced.members.remove.size, 0);
  });

  it('adds thousands of members in one operation without reading the group', () => {
    const value = Array.from({ length: 5000 }, (_, i) => ({ value: `usr_${i}` }));
    const { members } = applyPatch({}, patch({ op: 'add', path: 'members', value }), groupAttributes);
    assert.equal(members.add.size, 5000);
  });
});

describe('SCIM PATCH, whatever the client', () => {
  it('keeps one primary element', () => {
    const { document } = applyPatch(
      user(),
      patch({
        op: 'add',
        path: 'emails',
        value: [{ value: 'ada@home.example', type: 'home', primary: true }],
      }),
      userAttributes,
    );
    assert.deepEqual(
      (document.emails as ScimObject[]).map((e) => [e.value, e.primary]),
      [
        ['ada@example.com', false],
        ['ada@home.example', true],
      ],
    );
  });

  it('refuses what it cannot apply, changing nothing', () => {
    refused(
      { Operations: [{ op: 'add', path: 'title', value: 'x' }] },
      'scim_invalid_syntax',
      /schemas must hold/,
    );
    refused(patch(), 'scim_invalid_syntax', /at least one operation/);
    refused(patch({ op: 'delete', path: 'title' }), 'scim_invalid_syntax', /must be add, replace or remove/);
    refused(patch({ op: 'remove' }), 'scim_no_target', /remove needs a path/);
    refused(
      patch({ op: 'replace', path: 'id', value: 'usr_other' }),
      'scim_mutability',
      /id is set by Gatehouse/,
    );
    refused(
      patch({ op: 'replace', path: 'active', value: 'maybe' }),
      'scim_invalid_value',
      /active is a boolean/,
    );
    refused(
      patch({ op: 'replace', path: 'shoeSize', value: '42' }),
      'scim_invalid_path',
      /names no attribute/,
    );
    refused(
      patch({ op: 'add', path: 'emails.value', value: 'x' }),
      'scim_invalid_path',
      /pick the emails element/,
    );
    refused(
      patch(
        { op: 'replace', path: 'emails[value co "ada"].type', value: 'home' },
        { op: 'replace', path: 'emails[value co "zz"].type', value: 'home' },
      ),
      'scim_no_target',
      /says too little to make one/,
    );
    refused(
      patch({ op: 'replace', path: 'name', value: { nickname: 'x' } }),
      'scim_invalid_value',
      /name has no sub-attribute "nickname"/,
    );
    refused(patch({ op: 'replace', value: 'active' }), 'scim_invalid_value', /takes an object of attributes/);
  });
});
