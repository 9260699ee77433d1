// The tenancy service: orgs, users, memberships, groups, projects and service accounts
// (SPEC §1), plus the live role lookup every org-scoped route goes through.
import type { AuditService } from '../audit/index.ts';
import { resolveOrgAccess } from './access.ts';
import { createGroupFunctions } from './groups.ts';
import type { UserLifecycleListener } from './lifecycle.ts';
import { createMemberFunctions } from './members.ts';
import { createOrgFunctions } from './orgs.ts';
import { createProjectFunctions } from './projects.ts';
import { createServiceAccountFunctions } from './service-accounts.ts';

export interface TenancyDeps {
  readonly audit: AuditService;
  readonly listeners: readonly UserLifecycleListener[];
}

export function createTenancyService(deps: TenancyDeps) {
  return {
    resolveOrgAccess,
    ...createOrgFunctions(deps.audit),
    ...createMemberFunctions(deps.audit, deps.listeners),
    ...createProjectFunctions(deps.audit),
    ...createGroupFunctions(deps.audit),
    ...createServiceAccountFunctions(deps.audit),
  };
}

export type TenancyService = ReturnType<typeof createTenancyService>;
