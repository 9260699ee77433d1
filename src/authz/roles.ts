// The three roles and the fixed role → permission matrix (SPEC §1). Pure data and pure
// functions: no I/O, so it is unit-tested exhaustively and read by the route-table tests.

export const roles = ['admin', 'user', 'viewer'] as const;
export type Role = (typeof roles)[number];

const rank: Readonly<Record<Role, number>> = { admin: 3, user: 2, viewer: 1 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}

export function highestRole(candidates: readonly Role[]): Role | undefined {
  return candidates.reduce<Role | undefined>(
    (best, r) => (best === undefined || rank[r] > rank[best] ? r : best),
    undefined,
  );
}

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return rank[role] >= rank[minimum];
}

/** Permissions checked inside an org (`/v1/orgs/:org/...`). */
export const orgPermissions = [
  'org:read',
  'org:write',
  'members:read',
  'members:write',
  'groups:read',
  'groups:write',
  'projects:read',
  'projects:write',
  'service_accounts:read',
  'service_accounts:write',
  'apikeys:read',
  'apikeys:own',
  'apikeys:all',
  'sessions:all',
  'audit:read',
  'settings:read',
  'settings:write',
  'sso:read',
  'sso:write',
  'scim:write',
  'connectors:read',
  'connectors:write',
  'connectors:use',
] as const;
export type OrgPermission = (typeof orgPermissions)[number];

/**
 * Permissions that need a signed-in principal but no org: the caller acting on itself.
 * A credential restricted to one org still has these (whoami, own sessions).
 * `authz:check` is forward auth asking "who is this?": every principal may ask about itself.
 */
export const selfPermissions = [
  'profile:own',
  'profile:write',
  'sessions:own',
  'orgs:create',
  'authz:check',
] as const;
export type SelfPermission = (typeof selfPermissions)[number];

export type Permission = OrgPermission | SelfPermission;

/** What a route declares: a permission, or `public` for routes anyone may call. */
export type RoutePermission = Permission | 'public';

/** Permissions that only read; a read-only credential keeps these and loses the rest. */
const readPermissions: ReadonlySet<Permission> = new Set<Permission>([
  'org:read',
  'members:read',
  'groups:read',
  'projects:read',
  'service_accounts:read',
  'audit:read',
  'settings:read',
  'sso:read',
  'connectors:read',
  'connectors:use',
  'apikeys:read',
  'profile:own',
  'authz:check',
]);

const viewer: readonly OrgPermission[] = ['org:read', 'projects:read', 'apikeys:read', 'apikeys:own'];
const user: readonly OrgPermission[] = [...viewer, 'projects:write', 'members:read', 'groups:read'];
// connectors:use is for the platform's gateway service accounts; an admin role carries it so
// an admin-role service account can broker credentials. Plain users and viewers cannot.
const admin: readonly OrgPermission[] = orgPermissions;

export const matrix: Readonly<Record<Role, ReadonlySet<OrgPermission>>> = Object.freeze({
  admin: new Set(admin),
  user: new Set(user),
  viewer: new Set(viewer),
});

export function isSelfPermission(permission: Permission): permission is SelfPermission {
  return (selfPermissions as readonly string[]).includes(permission);
}

export function isReadPermission(permission: Permission): boolean {
  return readPermissions.has(permission);
}

export function isPermission(value: string): value is Permission {
  return (
    (orgPermissions as readonly string[]).includes(value) ||
    (selfPermissions as readonly string[]).includes(value)
  );
}
