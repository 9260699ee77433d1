// The service provider's self-description (RFC 7644 §4, RFC 7643 §5–7): what IdPs read at
// /scim/v2/ServiceProviderConfig, /ResourceTypes and /Schemas before provisioning. Built from
// the attribute catalogue (attributes.ts), so what is described is what is served.
import {
  type AttributeDefinition,
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  groupAttributes,
  type ResourceAttributes,
  USER_SCHEMA,
  userAttributes,
} from './attributes.ts';

const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** The most resources one list answer holds (`count` above it is lowered to it, RFC 7644 §3.4.2.4). */
export const MAX_PAGE_SIZE = 200;

/** RFC 7644 §5 ServiceProviderConfig: what this server supports. `base` is the /scim/v2 URL. */
export function serviceProviderConfig(base: string) {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'SCIM token',
        description: 'A gks_ token made by an admin of the organization; send it as Authorization: Bearer.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

/** RFC 7643 §6 ResourceType for User and Group. */
export function resourceTypes(base: string) {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A person in the organization',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A group of people in the organization; its role rules give members their role',
      schema: GROUP_SCHEMA,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

function describeAttribute(attribute: AttributeDefinition): Record<string, unknown> {
  return {
    name: attribute.name,
    type: attribute.type,
    multiValued: attribute.multiValued,
    required: attribute.required,
    caseExact: attribute.caseExact,
    mutability: attribute.mutability,
    returned: attribute.returned,
    uniqueness: attribute.uniqueness,
    ...(attribute.subAttributes
      ? { subAttributes: Object.values(attribute.subAttributes).map(describeAttribute) }
      : {}),
  };
}

const SCHEMA_NAMES: Readonly<Record<string, { name: string; description: string }>> = {
  [USER_SCHEMA]: { name: 'User', description: 'User Account' },
  [GROUP_SCHEMA]: { name: 'Group', description: 'Group' },
  [ENTERPRISE_USER_SCHEMA]: { name: 'EnterpriseUser', description: 'Enterprise User' },
};

/** RFC 7643 §7: each schema with its attributes (`id`, `externalId` and `meta` are common, not listed). */
export function schemas(base: string) {
  const out: Record<string, unknown>[] = [];
  for (const resource of [userAttributes, groupAttributes] satisfies ResourceAttributes[])
    for (const schema of resource.schemas) {
      const attributes = Object.values(resource.bySchema[schema] ?? {}).filter(
        (a) => !['id', 'externalId', 'meta'].includes(a.name),
      );
      out.push({
        schemas: [SCHEMA_SCHEMA],
        id: schema,
        ...SCHEMA_NAMES[schema],
        attributes: attributes.map(describeAttribute),
        meta: { resourceType: 'Schema', location: `${base}/Schemas/${schema}` },
      });
    }
  return out;
}

/** A list answer (RFC 7644 §3.4.2), also for the discovery endpoints that list. */
export function listResponse<T>(resources: readonly T[], totalResults: number, startIndex: number) {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
