// The tenancy service: orgs, users, memberships, groups, projects and service accounts
// (SPEC §1), plus the live role lookup every org-scoped route goes through.
import type { AuditService } from '../audit/index.ts';
import type { Notifications } from '../db/index.ts';
import { type AccessCacheConfig, createOrgAccess } from './access.ts';
import { createDirectoryFunctions, type DirectoryDeps } from './directory.ts';
import { createGroupFunctions } from './groups.ts';
import type { ServiceAccountLifecycleListener, UserLifecycleListener } from './lifecycle.ts';
import { createMemberFunctions } from './members.ts';
import { createOrgFunctions } from './orgs.ts';
import { createProjectFunctions } from './projects.ts';
import { createServiceAccountFunctions } from './service-accounts.ts';
import { createSsoMembershipFunctions } from './sso-membership.ts';

export interface TenancyDeps {
  readonly audit: AuditService;
  readonly notifications: Notifications;
  readonly accessCache: AccessCacheConfig;
  readonly listeners: readonly UserLifecycleListener[];
  readonly serviceAccountListeners: readonly ServiceAccountLifecycleListener[];
  /** What SCIM provisioning needs from the SSO capability (role rules, verified domains). */
  readonly directory: DirectoryDeps;
}

export function createTenancyService(deps: TenancyDeps) {
  const access = createOrgAccess({ notifications: deps.notifications, cache: deps.accessCache });
  // The cached roles are one more holder of what a lifecycle event changes: listed first,
  // so they are dropped in the same transaction as everything else.
  const userListeners: UserLifecycleListener[] = [
    {
      onUserDeactivated: (ctx, event) => access.invalidateAccess(ctx, event.userId),
      onRoleChanged: (ctx, event) => access.invalidateAccess(ctx, event.userId),
    },
    ...deps.listeners,
  ];
  const serviceAccountListeners: ServiceAccountLifecycleListener[] = [
    { onServiceAccountChanged: (ctx, event) => access.invalidateAccess(ctx, event.serviceAccountId) },
    ...deps.serviceAccountListeners,
  ];
  return {
    resolveOrgAccess: access.resolveOrgAccess,
    ...createOrgFunctions(deps.audit, access.invalidateAccess),
    ...createMemberFunctions(deps.audit, userListeners),
    ...createProjectFunctions(deps.audit),
    ...createGroupFunctions(deps.audit),
    ...createServiceAccountFunctions(deps.audit, serviceAccountListeners),
    ...createSsoMembershipFunctions(deps.audit, userListeners),
    ...createDirectoryFunctions(deps.audit, userListeners, deps.directory),
  };
}

export type TenancyService = ReturnType<typeof createTenancyService>;
