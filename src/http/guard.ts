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
  type OrgPermission,
  type Permission,
  type SelfPermission,
} from '../authz/index.ts';
import { GatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';
import type { OrgAccess, TenancyService } from '../tenancy/index.ts';
import { tenancyErrors } from '../tenancy/index.ts';
import { httpErrors } from './errors.ts';

/** The refusal a negative decision answers with, or undefined when the decision allows. */
export function refusalFor(decision: Decision, permission: Permission): GatehouseError | undefined {
  if (decision.allowed) return undefined;
  switch (decision.reason) {
    case 'read_only':
      return new GatehouseError(httpErrors.readOnlyCredential, { detail: permission });
    case 'scope':
      return new GatehouseError(httpErrors.insufficientScope, {
        message: `The token lacks the "${permission}" scope.`,
      });
    default:
      return new GatehouseError(httpErrors.permissionDenied, {
        message: `This needs the "${permission}" permission.`,
        detail: permission,
      });
  }
}

export function refuse(decision: Decision, permission: Permission): void {
  const refusal = refusalFor(decision, permission);
  if (refusal) throw refusal;
}

/**
 * The caller's org and live role for `orgRef` (an id or slug). A credential bound to one org
 * brings that org and role with it (no lookup) and is refused, 403, for any other org —
 * answered the same whether the other org exists or not. Otherwise the membership decides,
 * and undefined means "not a member or no such org".
 */
export function accessFor(
  ctx: Ctx,
  auth: Authentication,
  tenancy: TenancyService,
  orgRef: string,
): OrgAccess | undefined | Promise<OrgAccess | undefined> {
  const { boundOrg, principal } = auth;
  if (boundOrg) {
    if (orgRef !== boundOrg.org.id && orgRef !== boundOrg.org.slug)
      throw new GatehouseError(httpErrors.credentialOrgMismatch, { field: 'org' });
    return isRole(boundOrg.role) ? { org: boundOrg.org, role: boundOrg.role } : undefined;
  }
  return tenancy.resolveOrgAccess(ctx, principal, orgRef).then((access) => {
    if (!access && principal.orgRestriction !== undefined)
      throw new GatehouseError(httpErrors.credentialOrgMismatch, { field: 'org' });
    return access;
  });
}

/** The org access found for the caller, once `permission` is allowed there; throws the refusal. */
function admitted(auth: Authentication, permission: OrgPermission, access: OrgAccess | undefined): OrgAccess {
  // Not a member and no such org answer alike, so org slugs cannot be probed.
  if (!access) throw new GatehouseError(tenancyErrors.orgNotFound, { field: 'org' });
  refuse(decideInOrg(auth.principal, access.role, permission), permission);
  return access;
}

function admit(request: FastifyRequest, permission: OrgPermission, access: OrgAccess | undefined): void {
  request.orgAccess = admitted(request.auth!, permission, access);
}

/**
 * The route guard's decision for a caller that is not a /v1 request (the MCP server's tools):
 * the same org lookup, the same refusals (org_not_found, credential_org_mismatch,
 * permission_denied, insufficient_scope, read_only_credential).
 */
export async function admitToOrg(
  ctx: Ctx,
  auth: Authentication,
  tenancy: TenancyService,
  orgRef: string,
  permission: OrgPermission,
): Promise<OrgAccess> {
  return admitted(auth, permission, await accessFor(ctx, auth, tenancy, orgRef));
}

/** A self route's guard: any authenticated caller the permission does not exclude. */
export function admitToSelfRoute(
  auth: Authentication | undefined,
  permission: SelfPermission,
): Authentication {
  if (!auth) throw new GatehouseError(authnErrors.authenticationRequired);
  refuse(decideSelf(auth.principal, permission), permission);
  return auth;
}

/**
 * Checks the route's permission before its handler. Throws the refusal; returns a promise
 * only when the caller's role had to be looked up, so a self route or an org-bound
 * credential is decided without one.
 */
export function enforcePermission(
  request: FastifyRequest,
  tenancy: TenancyService,
): undefined | Promise<void> {
  // No route matched: the surface's not-found handler answers; there is nothing to guard.
  if (request.is404) return undefined;
  const permission = request.routeOptions.config.permission;
  if (permission === undefined) throw new Error(`route ${request.routeOptions.url} declares no permission`);
  if (permission === 'public') return undefined;
  if (isSelfPermission(permission)) {
    admitToSelfRoute(request.auth, permission);
    return undefined;
  }
  const auth = request.auth;
  if (!auth) throw new GatehouseError(authnErrors.authenticationRequired);
  const orgRef = (request.params as Record<string, string | undefined>).org;
  if (!orgRef)
    throw new Error(`route ${request.routeOptions.url} needs an org permission but has no :org parameter`);
  const access = accessFor(request.ctx, auth, tenancy, orgRef);
  if (!(access instanceof Promise)) {
    admit(request, permission, access);
    return undefined;
  }
  return access.then((found) => admit(request, permission, found));
}
