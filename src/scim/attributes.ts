// The attributes of the SCIM resources Gatehouse serves (RFC 7643 §4.1 User, §4.2 Group,
// §4.3 the enterprise extension), as filters and PATCH paths name them: case-insensitive
// names (RFC 7643 §2.1), optionally prefixed with their schema's URN. `filterable` marks the
// ones a filter may use, which run in SQL on indexed columns (SPEC §5); any other attribute
// in a filter is refused with invalidFilter rather than scanned for.

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export type AttributeType = 'string' | 'boolean' | 'dateTime' | 'reference' | 'complex';

export interface AttributeDefinition {
  /** The name as RFC 7643 spells it, e.g. `userName`. */
  readonly name: string;
  readonly type: AttributeType;
  /** Whether string comparisons are case-sensitive (RFC 7643 §2.2: `caseExact`). */
  readonly caseExact: boolean;
  readonly multiValued: boolean;
  /** May appear in a filter (it has an indexed column). */
  readonly filterable: boolean;
  /** RFC 7643 §7: who may write it, when it is returned, what must be unique. */
  readonly mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  readonly returned: 'always' | 'never' | 'default' | 'request';
  readonly uniqueness: 'none' | 'server' | 'global';
  readonly required: boolean;
  /** The schema the attribute belongs to (its URN prefix in a path). */
  readonly schema: string;
  /** Keyed by lower-cased name. */
  readonly subAttributes?: Readonly<Record<string, AttributeDefinition>>;
}

export interface ResourceAttributes {
  readonly resourceType: 'User' | 'Group';
  /** The core schema first, then the extensions. */
  readonly schemas: readonly string[];
  /** Keyed by lower-cased name; extension attributes under their own schema. */
  readonly bySchema: Readonly<Record<string, Readonly<Record<string, AttributeDefinition>>>>;
}

type Shape = Partial<Omit<AttributeDefinition, 'name' | 'schema' | 'subAttributes'>> & {
  readonly sub?: Readonly<Record<string, Shape>>;
};

function defineAll(
  schema: string,
  shapes: Readonly<Record<string, Shape>>,
): Record<string, AttributeDefinition> {
  const out: Record<string, AttributeDefinition> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const { sub, ...rest } = shape;
    out[name.toLowerCase()] = {
      name,
      type: 'string',
      caseExact: false,
      multiValued: false,
      filterable: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none',
      required: false,
      schema,
      ...rest,
      ...(sub ? { subAttributes: defineAll(schema, sub), type: 'complex' as const } : {}),
    };
  }
  return out;
}

/** `value`, `type`, `primary`, `display`: the sub-attributes of RFC 7643's multi-valued attributes. */
const MULTI_VALUE_SUB: Readonly<Record<string, Shape>> = {
  value: {},
  display: {},
  type: {},
  primary: { type: 'boolean' },
};

/** `id`, `externalId` and `meta` (RFC 7643 §3.1), common to every resource. */
const READ_ONLY: Shape = { mutability: 'readOnly' };

const COMMON: Readonly<Record<string, Shape>> = {
  id: { caseExact: true, filterable: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' },
  externalId: { caseExact: true, filterable: true },
  meta: {
    mutability: 'readOnly',
    sub: {
      resourceType: { caseExact: true, ...READ_ONLY },
      created: { type: 'dateTime', ...READ_ONLY },
      lastModified: { type: 'dateTime', filterable: true, ...READ_ONLY },
      location: { type: 'reference', caseExact: true, ...READ_ONLY },
      version: { caseExact: true, ...READ_ONLY },
    },
  },
};

export const userAttributes: ResourceAttributes = {
  resourceType: 'User',
  schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
  bySchema: {
    [USER_SCHEMA]: defineAll(USER_SCHEMA, {
      ...COMMON,
      userName: { filterable: true, required: true, uniqueness: 'server' },
      name: {
        sub: {
          formatted: {},
          familyName: {},
          givenName: {},
          middleName: {},
          honorificPrefix: {},
          honorificSuffix: {},
        },
      },
      displayName: { filterable: true },
      nickName: {},
      profileUrl: { type: 'reference' },
      title: {},
      userType: {},
      preferredLanguage: {},
      locale: {},
      timezone: {},
      active: { type: 'boolean', filterable: true },
      // Accepted and never kept: Gatehouse users provisioned by an IdP sign in through it.
      password: { mutability: 'writeOnly', returned: 'never' },
      emails: { multiValued: true, sub: { ...MULTI_VALUE_SUB, value: { filterable: true } } },
      phoneNumbers: { multiValued: true, sub: MULTI_VALUE_SUB },
      ims: { multiValued: true, sub: MULTI_VALUE_SUB },
      photos: { multiValued: true, sub: MULTI_VALUE_SUB },
      addresses: {
        multiValued: true,
        sub: {
          formatted: {},
          streetAddress: {},
          locality: {},
          region: {},
          postalCode: {},
          country: {},
          type: {},
          primary: { type: 'boolean' },
        },
      },
      groups: {
        multiValued: true,
        mutability: 'readOnly',
        sub: {
          value: READ_ONLY,
          $ref: { type: 'reference', ...READ_ONLY },
          display: READ_ONLY,
          type: READ_ONLY,
        },
      },
      entitlements: { multiValued: true, sub: MULTI_VALUE_SUB },
      roles: { multiValued: true, sub: MULTI_VALUE_SUB },
      x509Certificates: { multiValued: true, sub: MULTI_VALUE_SUB },
    }),
    [ENTERPRISE_USER_SCHEMA]: defineAll(ENTERPRISE_USER_SCHEMA, {
      employeeNumber: {},
      costCenter: {},
      organization: {},
      division: {},
      department: {},
      manager: { sub: { value: {}, $ref: { type: 'reference' }, displayName: {} } },
    }),
  },
};

export const groupAttributes: ResourceAttributes = {
  resourceType: 'Group',
  schemas: [GROUP_SCHEMA],
  bySchema: {
    [GROUP_SCHEMA]: defineAll(GROUP_SCHEMA, {
      ...COMMON,
      displayName: { filterable: true, required: true },
      members: {
        multiValued: true,
        sub: {
          value: { caseExact: true, filterable: true },
          $ref: { type: 'reference' },
          display: {},
          type: {},
        },
      },
    }),
  },
};

/** An attribute as a path names it: the attribute, and the sub-attribute when there is one. */
export interface ResolvedAttribute {
  readonly attribute: AttributeDefinition;
  readonly sub?: AttributeDefinition;
}

/**
 * Resolves `name`, `name.sub`, or either prefixed with a schema URN
 * (`urn:…:enterprise:2.0:User:manager.value`), case-insensitively. A URN itself contains
 * dots (`2.0`), so the known URNs are matched as prefixes before the rest is split.
 */
export function resolveAttribute(resource: ResourceAttributes, path: string): ResolvedAttribute | undefined {
  let schema = resource.schemas[0] as string;
  let rest = path;
  const lower = path.toLowerCase();
  for (const candidate of resource.schemas) {
    if (lower.startsWith(`${candidate.toLowerCase()}:`)) {
      schema = candidate;
      rest = path.slice(candidate.length + 1);
      break;
    }
  }
  const [name, sub, ...more] = rest.split('.');
  if (name === undefined || more.length > 0) return undefined;
  const attribute = resource.bySchema[schema]?.[name.toLowerCase()];
  if (attribute === undefined) return undefined;
  if (sub === undefined) return { attribute };
  const subAttribute = attribute.subAttributes?.[sub.toLowerCase()];
  return subAttribute === undefined ? undefined : { attribute, sub: subAttribute };
}
