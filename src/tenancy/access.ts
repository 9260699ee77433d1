// Which role does this principal hold in this org right now? Read live on every request,
// so a demotion or suspension takes effect on the next request (SPEC §4: keys inherit the
// user's live role).
import type { Role } from '../authz/index.ts';
import { isRole } from '../authz/index.ts';
import type { Principal } from '../core/context.ts';
import type { Ctx } from '../db/index.ts';
import * as store from './store.ts';

export interface OrgAccess {
  readonly org: { readonly id: string; readonly slug: string; readonly name: string };
  readonly role: Role;
}

export async function resolveOrgAccess(
  ctx: Ctx,
  principal: Principal,
  orgRef: string,
): Promise<OrgAccess | undefined> {
  const row =
    principal.kind === 'service_account'
      ? await store.selectServiceAccountAccess(ctx, orgRef, principal.id)
      : await store.selectUserAccess(ctx, orgRef, principal.id);
  if (!row || !isRole(row.role)) return undefined;
  if (principal.orgRestriction !== undefined && principal.orgRestriction !== row.id) return undefined;
  return { org: { id: row.id, slug: row.slug, name: row.name }, role: row.role };
}

/** The org the permission guard resolved for an org-scoped route. */
export function requireOrg(access: OrgAccess | undefined): OrgAccess {
  if (!access) throw new Error('org-scoped handler ran without the guard resolving an org');
  return access;
}
