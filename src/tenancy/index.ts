export { type AccessCacheConfig, type OrgAccess, requireOrg } from './access.ts';
export {
  DIRECTORY_ROLE_SOURCE,
  type DirectoryDeps,
  type DirectoryJoin,
  type DirectoryRoleDecision,
  type DirectoryRoleRules,
  type MemberChangeSet,
} from './directory.ts';
export { tenancyErrors } from './errors.ts';
export type {
  DeactivationReason,
  ServiceAccountChange,
  ServiceAccountLifecycleListener,
  UserLifecycleListener,
} from './lifecycle.ts';
export type { Member, User, UserStatus } from './members.ts';
export { DEFAULT_SESSION_ABSOLUTE_LIFETIME_MS, DEFAULT_SESSION_IDLE_TIMEOUT_MS, type Org } from './orgs.ts';
export { v1TenancyResourceRoutes } from './resource-routes.ts';
export { type TenancyRouteOptions, v1TenancyRoutes } from './routes.ts';
export { createTenancyService, type TenancyDeps, type TenancyService } from './service.ts';
export type { SsoMembershipInput, SsoMembershipResult } from './sso-membership.ts';
export { checkEmail, checkPassword, checkSlug, normalizeEmail } from './validation.ts';
