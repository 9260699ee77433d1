// The permission guard: runs before every handler on every surface that serves
// authenticated routes. A route without a declared permission never reaches here: the
// route collector refuses to register it (route-table.ts).
import type { FastifyRequest } from 'fastify';
import { authnErrors } from '../authn/index.ts';
import { type Decision, decideInOrg, decideSelf, isSelfPermission, type Permission } from '../authz/index.ts';
import { GatehouseError } from '../core/errors.ts';
import type { TenancyService } from '../tenancy/index.ts';
import { tenancyErrors } from '../tenancy/index.ts';
import { httpErrors } from './errors.ts';

function refuse(decision: Decision, permission: Permission): void {
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

export async function enforcePermission(request: FastifyRequest, tenancy: TenancyService): Promise<void> {
  // No route matched: the surface's not-found handler answers; there is nothing to guard.
  if (request.is404) return;
  const permission = request.routeOptions.config.permission;
  if (permission === undefined) throw new Error(`route ${request.routeOptions.url} declares no permission`);
  if (permission === 'public') return;
  const principal = request.auth?.principal;
  if (!principal) throw new GatehouseError(authnErrors.authenticationRequired);
  if (isSelfPermission(permission)) {
    refuse(decideSelf(principal, permission), permission);
    return;
  }
  const orgRef = (request.params as Record<string, string | undefined>).org;
  if (!orgRef)
    throw new Error(`route ${request.routeOptions.url} needs an org permission but has no :org parameter`);
  const access = await tenancy.resolveOrgAccess(request.ctx, principal, orgRef);
  // Not a member and no such org answer alike, so org slugs cannot be probed.
  if (!access) throw new GatehouseError(tenancyErrors.orgNotFound, { field: 'org' });
  refuse(decideInOrg(principal, access.role, permission), permission);
  request.orgAccess = access;
}
