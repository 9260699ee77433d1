import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatehouseError } from '../../core/errors.ts';
import { groupAttributes, userAttributes } from '../attributes.ts';
import { type FilterNode, parseScimFilter } from './parse.ts';

/** The tree with attribute definitions replaced by their names, for readable expectations. */
function shape(node: FilterNode): unknown {
  switch (node.kind) {
    case 'compare':
      return [node.op, pathOf(node.path), node.value];
    case 'present':
      return ['pr', pathOf(node.path)];
    case 'and':
    case 'or':
      return [node.kind, ...node.nodes.map(shape)];
    case 'not':
      return ['not', shape(node.node)];
    case 'any':
      return ['any', node.attribute.name, shape(node.node)];
  }
}

function pathOf(path: { attribute: { name: string }; sub?: { name: string } }): string {
  return path.sub ? `${path.attribute.name}.${path.sub.name}` : path.attribute.name;
}

function refused(text: string, pattern: RegExp, resource = userAttributes): void {
  assert.throws(
    () => parseScimFilter(text, resource),
    (error: unknown) => {
      assert.ok(isGatehouseError(error), String(error));
      assert.equal(error.code, 'scim_invalid_filter');
      assert.equal(error.status, 400);
      assert.equal(error.field, 'filter');
      assert.match(error.message, pattern);
      return true;
    },
    text,
  );
}

describe('SCIM filters (RFC 7644 §3.4.2.2)', () => {
  it('reads the filters Okta and Entra ID send to find a user or group', () => {
    assert.deepEqual(shape(parseScimFilter('userName eq "ada@example.com"', userAttributes)), [
      'eq',
      'userName',
      'ada@example.com',
    ]);
    assert.deepEqual(shape(parseScimFilter('externalId eq "5f2c-77"', userAttributes)), [
      'eq',
      'externalId',
      '5f2c-77',
    ]);
    assert.deepEqual(shape(parseScimFilter('displayName eq "Engineering"', groupAttributes)), [
      'eq',
      'displayName',
      'Engineering',
    ]);
    assert.deepEqual(shape(parseScimFilter('members[value eq "usr_1"]', groupAttributes)), [
      'any',
      'members',
      ['eq', 'members.value', 'usr_1'],
    ]);
  });

  it('matches attribute names case-insensitively and with their schema URN', () => {
    assert.deepEqual(shape(parseScimFilter('USERNAME eq "a"', userAttributes)), ['eq', 'userName', 'a']);
    assert.deepEqual(
      shape(parseScimFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "a"', userAttributes)),
      ['sw', 'userName', 'a'],
    );
    assert.deepEqual(shape(parseScimFilter('Meta.LastModified gt "2026-01-01T00:00:00Z"', userAttributes)), [
      'gt',
      'meta.lastModified',
      Date.parse('2026-01-01T00:00:00Z'),
    ]);
  });

  it('keeps and, or, not and grouping, and reads a dotted multi-valued attribute as "some element"', () => {
    const tree = parseScimFilter(
      '(userName sw "a" or emails.value co "@example.com") and not (active eq false) and externalId pr',
      userAttributes,
    );
    assert.deepEqual(shape(tree), [
      'and',
      ['or', ['sw', 'userName', 'a'], ['any', 'emails', ['co', 'emails.value', '@example.com']]],
      ['not', ['eq', 'active', false]],
      ['pr', 'externalId'],
    ]);
  });

  it('refuses bad syntax, unknown and unindexed attributes, and values of the wrong type', () => {
    refused('userName eq', /not valid SCIM filter syntax/);
    refused('userName eq "a" and', /not valid SCIM filter syntax/);
    refused('active eq True', /not valid SCIM filter syntax/);
    refused('shoeSize eq "42"', /User has no attribute "shoeSize"/);
    refused('title eq "CTO"', /"title" cannot be filtered on; filterable: id, externalId, .*userName/);
    refused('emails[type eq "work"]', /emails\[type …\] cannot be filtered on here/);
    refused('name eq "x"', /"name" cannot be filtered on/);
    refused('active eq "false"', /active is a boolean/);
    refused('active gt true', /active is a boolean/);
    refused('userName eq 42', /takes a quoted string/);
    refused('meta.lastModified gt "last tuesday"', /xsd:dateTime/);
    refused('meta.lastModified co "2026"', /co, sw and ew do not apply/);
    refused('userName[value eq "a"]', /needs a multi-valued attribute/);
    refused('members[value eq "x"]', /User has no attribute "members"/);
    refused('', /empty/);
  });

  it('refuses filters too long or too complex before they reach the database', () => {
    refused(`userName eq "${'a'.repeat(2100)}"`, /longer than 2048 characters/);
    const wide = Array.from({ length: 70 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    refused(wide, /too complex/);
    const deep = `${'not ('.repeat(10)}userName eq "a"${')'.repeat(10)}`;
    refused(deep, /too complex/);
    const fine = Array.from({ length: 20 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    const parsed = parseScimFilter(fine, userAttributes);
    assert.equal(parsed.kind === 'or' && parsed.nodes.length, 20);
  });
});
