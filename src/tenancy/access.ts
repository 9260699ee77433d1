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
  const org = await store.selectOrgByRef(ctx, orgRef);
  if (!org) return undefined;
  if (principal.orgRestriction !== undefined && principal.orgRestriction !== org.id) return undefined;
  const summary = { id: org.id, slug: org.slug, name: org.name };
  if (principal.kind === 'service_account') {
    const account = await store.selectServiceAccountInOrg(ctx, org.id, principal.id);
    if (!account || account.disabled_at !== null || !isRole(account.role)) return undefined;
    return { org: summary, role: account.role };
  }
  const [membership, user] = await Promise.all([
    store.selectMembership(ctx, org.id, principal.id),
    store.selectUserById(ctx, principal.id),
  ]);
  if (!membership || !user || user.status !== 'active' || !isRole(membership.role)) return undefined;
  return { org: summary, role: membership.role };
}

/** The org the permission guard resolved for an org-scoped route. */
export function requireOrg(access: OrgAccess | undefined): OrgAccess {
  if (!access) throw new Error('org-scoped handler ran without the guard resolving an org');
  return access;
}
