import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from './attributes.ts';
import { listResponse, resourceTypes, schemas, serviceProviderConfig } from './discovery.ts';

const BASE = 'https://id.example.com/scim/v2';

type Described = { name: string; subAttributes?: Described[] } & Record<string, unknown>;

function attributeOf(schema: string, name: string): Described {
  const document = schemas(BASE).find((s) => s.id === schema) as { attributes: Described[] } | undefined;
  const found = document?.attributes.find((a) => a.name === name);
  assert.ok(found, `${schema} describes ${name}`);
  return found;
}

describe('SCIM discovery documents (RFC 7644 §4)', () => {
  it('says what the service provider supports', () => {
    const config = serviceProviderConfig(BASE);
    assert.equal(config.patch.supported, true);
    assert.equal(config.filter.supported, true);
    assert.equal(config.bulk.supported, false);
    assert.equal(config.sort.supported, false);
    assert.equal(config.authenticationSchemes[0]?.type, 'oauthbearertoken');
    assert.equal(config.meta.location, `${BASE}/ServiceProviderConfig`);
  });

  it('lists Users with the enterprise extension, and Groups', () => {
    const [users, groups] = resourceTypes(BASE);
    assert.deepEqual(
      [users?.endpoint, users?.schema, users?.schemaExtensions[0]?.schema],
      ['/Users', USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    );
    assert.deepEqual([groups?.endpoint, groups?.schema], ['/Groups', GROUP_SCHEMA]);
  });

  it('describes each attribute with the characteristics RFC 7643 §7 names', () => {
    assert.deepEqual(
      schemas(BASE).map((s) => s.id),
      [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA],
    );
    assert.deepEqual(attributeOf(USER_SCHEMA, 'userName'), {
      name: 'userName',
      type: 'string',
      multiValued: false,
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'server',
    });
    const password = attributeOf(USER_SCHEMA, 'password');
    assert.deepEqual([password.mutability, password.returned], ['writeOnly', 'never']);
    const emails = attributeOf(USER_SCHEMA, 'emails');
    assert.equal(emails.multiValued, true);
    assert.deepEqual(
      emails.subAttributes?.map((s) => s.name),
      ['value', 'display', 'type', 'primary'],
    );
    assert.equal(attributeOf(USER_SCHEMA, 'groups').mutability, 'readOnly');
    assert.equal(attributeOf(USER_SCHEMA, 'active').type, 'boolean');
    assert.equal(attributeOf(ENTERPRISE_USER_SCHEMA, 'manager').type, 'complex');
    const members = attributeOf(GROUP_SCHEMA, 'members');
    assert.equal(members.subAttributes?.find((s) => s.name === 'value')?.caseExact, true);
  });

  it('wraps lists in a ListResponse', () => {
    assert.deepEqual(listResponse([], 0, 1), {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
  });
});
