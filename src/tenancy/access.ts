// Which role does this principal hold in this org right now? Every org-scoped request asks,
// so the answer is cached in process, and every change that could alter it (role change,
// suspension, removal, a service account changed or deleted, org settings) drops the cached
// answers on every node through a notification sent in the changing transaction
// (db/shared-cache.ts).
import type { Role } from '../authz/index.ts';
import { isRole } from '../authz/index.ts';
import type { Principal } from '../core/context.ts';
import { type Ctx, createSharedCache, type Notifications } from '../db/index.ts';
import * as store from './store.ts';

export interface OrgAccess {
  readonly org: { readonly id: string; readonly slug: string; readonly name: string };
  readonly role: Role;
}

/** How long cached answers may live, and how many; `enabled: false` reads the database every time. */
export interface AccessCacheConfig {
  readonly enabled: boolean;
  readonly ttlMs: number;
  readonly maxEntries: number;
}

const CHANNEL = 'tenancy_access';

export function createOrgAccess(deps: { notifications: Notifications; cache: AccessCacheConfig }) {
  const cache = createSharedCache<OrgAccess>(deps.notifications, CHANNEL, {
    maxEntries: deps.cache.enabled ? deps.cache.maxEntries : 0,
  });

  async function lookUp(ctx: Ctx, principal: Principal, orgRef: string): Promise<OrgAccess | undefined> {
    const row =
      principal.kind === 'service_account'
        ? await store.selectServiceAccountAccess(ctx, orgRef, principal.id)
        : await store.selectUserAccess(ctx, orgRef, principal.id);
    if (!row || !isRole(row.role)) return undefined;
    return { org: { id: row.id, slug: row.slug, name: row.name }, role: row.role };
  }

  /**
   * The org (by id or slug) and the principal's live role in it, or undefined when it holds
   * none. A credential restricted to one org has no access to any other.
   */
  async function resolveOrgAccess(
    ctx: Ctx,
    principal: Principal,
    orgRef: string,
  ): Promise<OrgAccess | undefined> {
    const now = ctx.clock.now();
    const key = `${principal.kind}:${principal.id}\u0000${orgRef}`;
    let access = cache.get(ctx, key, now);
    if (access === undefined) {
      const ticket = cache.ticket();
      access = await lookUp(ctx, principal, orgRef);
      if (access)
        cache.set(ctx, key, access, now + deps.cache.ttlMs, [principal.id, access.org.id], ticket, now);
    }
    if (!access) return undefined;
    if (principal.orgRestriction !== undefined && principal.orgRestriction !== access.org.id)
      return undefined;
    return access;
  }

  /** Drops cached answers for a user, service account or org id, on every node once ctx commits. */
  const invalidateAccess = (ctx: Ctx, principalOrOrgId: string): Promise<void> =>
    cache.invalidate(ctx, principalOrOrgId);

  return { resolveOrgAccess, invalidateAccess };
}

/** The org the permission guard resolved for an org-scoped route. */
export function requireOrg(access: OrgAccess | undefined): OrgAccess {
  if (!access) throw new Error('org-scoped handler ran without the guard resolving an org');
  return access;
}
