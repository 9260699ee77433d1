// Forward auth (SPEC §4): `/v1/authz/check` answers a reverse proxy's "who is this, and may
// they do this?" for nginx auth_request, Envoy ext_authz (HTTP) and Traefik forwardAuth
// (docs/proxies.md). Any credential the resolver accepts works. 200 carries the identity in
// X-Gatehouse-* headers for the proxy to pass upstream; 401 means no valid credential, 403
// a credential that may not do what was asked (`?org=`, `?permission=`, or a write with a
// read-only credential). Only 2xx, 401 and 403 are used for answers a proxy acts on:
// nginx turns anything else from an auth subrequest into a 500.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decideInOrg, decideSelf, isPermission, isSelfPermission, type Permission } from '../authz/index.ts';
import { commonErrors, GatehouseError } from '../core/errors.ts';
import type { TenancyService } from '../tenancy/index.ts';
import { isSafeMethod } from './csrf.ts';
import { httpErrors } from './errors.ts';
import { accessFor, refuse } from './guard.ts';

const CheckQuery = Type.Object({
  org: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  permission: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
type CheckRoute = { Querystring: Static<typeof CheckQuery> };
const CheckAnswer = Type.Object({
  principal: Type.Object({ kind: Type.String(), id: Type.String(), auth_method: Type.String() }),
  org: Type.Union([
    Type.Object({ id: Type.String(), slug: Type.String(), role: Type.String() }),
    Type.Null(),
  ]),
});

/**
 * Whether the request being checked writes. Envoy sends the check with the original
 * request's method; nginx (as documented) and Traefik name it in X-Original-Method or
 * X-Forwarded-Method. A proxy that sets one of them may pass a client's forged copy of the
 * other through, so the request counts as a write when ANY of them names an unsafe method:
 * a read-only credential then passes only if every one of them says it reads.
 */
function checksWrite(request: FastifyRequest): boolean {
  if (!isSafeMethod(request.method)) return true;
  for (const name of ['x-forwarded-method', 'x-original-method'] as const) {
    const header = request.headers[name];
    for (const value of Array.isArray(header) ? header : header === undefined ? [] : [header]) {
      if (!isSafeMethod(value.trim().toUpperCase())) return true;
    }
  }
  return false;
}

function requestedPermission(raw: string | undefined): Permission | undefined {
  if (raw === undefined) return undefined;
  if (!isPermission(raw))
    throw new GatehouseError(commonErrors.invalidRequest, {
      field: 'permission',
      message: `"${raw}" is not a Gatehouse permission.`,
    });
  return raw;
}

export function registerForwardAuth(app: FastifyInstance, tenancy: TenancyService): void {
  app.route<CheckRoute>({
    // Every method, because Envoy's HTTP ext_authz checks with the original one.
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/authz/check',
    config: { permission: 'authz:check', csrf: 'not_a_state_change' },
    schema: { querystring: CheckQuery, response: { 200: CheckAnswer } },
    handler: async function checkAuthorization(request, reply: FastifyReply) {
      const auth = request.auth!;
      const { principal } = auth;
      const permission = requestedPermission(request.query.permission);
      if (principal.readOnly && checksWrite(request))
        throw new GatehouseError(httpErrors.readOnlyCredential, { field: 'method' });
      const orgRef = request.query.org ?? auth.boundOrg?.org.id;
      const found = orgRef === undefined ? undefined : accessFor(request.ctx, auth, tenancy, orgRef);
      const access = found instanceof Promise ? await found : found;
      if (orgRef !== undefined && !access)
        throw new GatehouseError(httpErrors.orgAccessDenied, { field: 'org' });
      if (permission !== undefined) {
        if (isSelfPermission(permission)) refuse(decideSelf(principal, permission), permission);
        else if (!access)
          throw new GatehouseError(commonErrors.invalidRequest, {
            field: 'org',
            message: `"${permission}" is checked in an organization: add ?org=.`,
          });
        else refuse(decideInOrg(principal, access.role, permission), permission);
      }
      // Every identity header is always sent, empty when it does not apply, so a proxy that
      // copies them upstream (Envoy's allowed_upstream_headers) overwrites any copy a client
      // forged instead of letting it through.
      const identity: Record<string, string> = {
        'x-gatehouse-principal-kind': principal.kind,
        'x-gatehouse-user': principal.id,
        'x-gatehouse-auth-method': principal.authMethod,
        'x-gatehouse-org': access?.org.id ?? '',
        'x-gatehouse-org-slug': access?.org.slug ?? '',
        'x-gatehouse-role': access?.role ?? '',
        'x-gatehouse-read-only': principal.readOnly ? 'true' : 'false',
      };
      reply.headers(identity);
      return {
        principal: { kind: principal.kind, id: principal.id, auth_method: principal.authMethod },
        org: access ? { id: access.org.id, slug: access.org.slug, role: access.role } : null,
      };
    },
  });
}
