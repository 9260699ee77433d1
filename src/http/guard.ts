// The permission guard: runs before every handler on every surface that serves
// authenticated routes. A route without a declared permission never reaches here: the
// route collector refuses to register it (route-table.ts).
import type { FastifyRequest } from 'fastify';
import { type Authentication, authnErrors } from '../authn/index.ts';
import {
  type Decision,
  decideInOrg,
  decideSelf,
  isRole,
  isSelfPermission,
  type Permission,
} from '../authz/index.ts';
import { GatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';
import type { OrgAccess, TenancyService } from '../tenancy/index.ts';
import { tenancyErrors } from '../tenancy/index.ts';
import { httpErrors } from './errors.ts';

export function refuse(decision: Decision, permission: Permission): void {
  if (decision.allowed) return;
  const message = `This needs the "${permission}" permission.`;
  switch (decision.reason) {
    case 'read_only':
      throw new GatehouseError(httpErrors.readOnlyCredential, { detail: permission });
    case 'scope':
      throw new GatehouseError(httpErrors.insufficientScope, {
        message: `The token lacks the "${permission}" scope.`,
      });
    default:
      throw new GatehouseError(httpErrors.permissionDenied, { message, detail: permission });
  }
}

/**
 * The caller's org and live role for `orgRef` (an id or slug). A credential bound to one org
 * brings that org and role with it (no lookup) and is refused, 403, for any other org —
 * answered the same whether the other org exists or not. Otherwise the membership decides,
 * and undefined means "not a member or no such org".
 */
export async function accessFor(
  ctx: Ctx,
  auth: Authentication,
  tenancy: TenancyService,
  orgRef: string,
): Promise<OrgAccess | undefined> {
  const { boundOrg, principal } = auth;
  if (boundOrg) {
    if (orgRef !== boundOrg.org.id && orgRef !== boundOrg.org.slug)
      throw new GatehouseError(httpErrors.credentialOrgMismatch, { field: 'org' });
    return isRole(boundOrg.role) ? { org: boundOrg.org, role: boundOrg.role } : undefined;
  }
  const access = await tenancy.resolveOrgAccess(ctx, principal, orgRef);
  if (!access && principal.orgRestriction !== undefined)
    throw new GatehouseError(httpErrors.credentialOrgMismatch, { field: 'org' });
  return access;
}

export async function enforcePermission(request: FastifyRequest, tenancy: TenancyService): Promise<void> {
  // No route matched: the surface's not-found handler answers; there is nothing to guard.
  if (request.is404) return;
  const permission = request.routeOptions.config.permission;
  if (permission === undefined) throw new Error(`route ${request.routeOptions.url} declares no permission`);
  if (permission === 'public') return;
  const auth = request.auth;
  if (!auth) throw new GatehouseError(authnErrors.authenticationRequired);
  if (isSelfPermission(permission)) {
    refuse(decideSelf(auth.principal, permission), permission);
    return;
  }
  const orgRef = (request.params as Record<string, string | undefined>).org;
  if (!orgRef)
    throw new Error(`route ${request.routeOptions.url} needs an org permission but has no :org parameter`);
  const access = await accessFor(request.ctx, auth, tenancy, orgRef);
  // Not a member and no such org answer alike, so org slugs cannot be probed.
  if (!access) throw new GatehouseError(tenancyErrors.orgNotFound, { field: 'org' });
  refuse(decideInOrg(auth.principal, access.role, permission), permission);
  request.orgAccess = access;
}
