// Forward auth (SPEC §4): `/v1/authz/check` answers a reverse proxy's "who is this, and may
// they do this?" for nginx auth_request, Envoy ext_authz (HTTP) and Traefik forwardAuth
// (docs/proxies.md). Any credential the resolver accepts works. 200 carries the identity in
// X-Gatehouse-* headers for the proxy to pass upstream; 401 means no valid credential, 403
// a credential that may not do what was asked (`?org=`, `?permission=`, or a write with a
// read-only credential). Only 2xx, 401 and 403 are used for answers a proxy acts on:
// nginx turns anything else from an auth subrequest into a 500.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Authentication } from '../authn/index.ts';
import { decideInOrg, decideSelf, isPermission, isSelfPermission, type Permission } from '../authz/index.ts';
import type { Principal } from '../core/context.ts';
import { commonErrors, GatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';
import type { OrgAccess, TenancyService } from '../tenancy/index.ts';
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

/** The route forward auth answers on; the fast path (forward-auth-fast-path.ts) serves the same one. */
export const CHECK_PATH = '/v1/authz/check';

type HeaderValue = string | string[] | undefined;

/**
 * Whether the request being checked writes. Envoy sends the check with the original
 * request's method; nginx (as documented) and Traefik name it in X-Original-Method or
 * X-Forwarded-Method. A proxy that sets one of them may pass a client's forged copy of the
 * other through, so the request counts as a write when ANY of them names an unsafe method:
 * a read-only credential then passes only if every one of them says it reads.
 */
export function checksWrite(method: string, headers: Readonly<Record<string, HeaderValue>>): boolean {
  if (!isSafeMethod(method)) return true;
  return namesUnsafeMethod(headers['x-forwarded-method']) || namesUnsafeMethod(headers['x-original-method']);
}

function namesUnsafeMethod(header: HeaderValue): boolean {
  if (header === undefined) return false;
  if (!Array.isArray(header)) return !isSafeMethod(header.trim().toUpperCase());
  return header.some((value) => !isSafeMethod(value.trim().toUpperCase()));
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

export interface CheckRequest {
  readonly org?: string;
  readonly permission?: string;
  /** checksWrite() of the request being checked. */
  readonly writes: boolean;
}

export interface CheckVerdict {
  readonly principal: Principal;
  readonly access: OrgAccess | undefined;
}

function verdict(
  auth: Authentication,
  permission: Permission | undefined,
  access: OrgAccess | undefined,
  orgRef: string | undefined,
): CheckVerdict {
  const { principal } = auth;
  if (orgRef !== undefined && !access) throw new GatehouseError(httpErrors.orgAccessDenied, { field: 'org' });
  if (permission !== undefined) {
    if (isSelfPermission(permission)) refuse(decideSelf(principal, permission), permission);
    else if (!access)
      throw new GatehouseError(commonErrors.invalidRequest, {
        field: 'org',
        message: `"${permission}" is checked in an organization: add ?org=.`,
      });
    else refuse(decideInOrg(principal, access.role, permission), permission);
  }
  return { principal, access };
}

/**
 * Forward auth's decision for an authenticated caller: who they are, in which org with
 * which role, or the refusal (thrown). Synchronous unless the role in `?org=` has to be
 * looked up (an org-bound credential brings its own).
 */
export function decideCheck(
  ctx: Ctx,
  auth: Authentication,
  tenancy: TenancyService,
  check: CheckRequest,
): CheckVerdict | Promise<CheckVerdict> {
  const permission = requestedPermission(check.permission);
  if (auth.principal.readOnly && check.writes)
    throw new GatehouseError(httpErrors.readOnlyCredential, { field: 'method' });
  const orgRef = check.org ?? auth.boundOrg?.org.id;
  const found = orgRef === undefined ? undefined : accessFor(ctx, auth, tenancy, orgRef);
  return found instanceof Promise
    ? found.then((access) => verdict(auth, permission, access, orgRef))
    : verdict(auth, permission, found, orgRef);
}

/**
 * The 200 answer's identity headers. Every one is always sent, empty when it does not
 * apply, so a proxy that copies them upstream (Envoy's allowed_upstream_headers) overwrites
 * any copy a client forged instead of letting it through.
 */
export function identityHeaders({ principal, access }: CheckVerdict): Record<string, string> {
  return {
    'x-gatehouse-principal-kind': principal.kind,
    'x-gatehouse-user': principal.id,
    'x-gatehouse-auth-method': principal.authMethod,
    'x-gatehouse-org': access?.org.id ?? '',
    'x-gatehouse-org-slug': access?.org.slug ?? '',
    'x-gatehouse-role': access?.role ?? '',
    'x-gatehouse-read-only': principal.readOnly ? 'true' : 'false',
  };
}

/** The 200 answer's body, in CheckAnswer's property order (the fast path stringifies it itself). */
export function checkBody({ principal, access }: CheckVerdict): Static<typeof CheckAnswer> {
  return {
    principal: { kind: principal.kind, id: principal.id, auth_method: principal.authMethod },
    org: access ? { id: access.org.id, slug: access.org.slug, role: access.role } : null,
  };
}

export function registerForwardAuth(app: FastifyInstance, tenancy: TenancyService): void {
  app.route<CheckRoute>({
    // Every method, because Envoy's HTTP ext_authz checks with the original one.
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: CHECK_PATH.slice('/v1'.length),
    config: { permission: 'authz:check', csrf: 'not_a_state_change' },
    schema: { querystring: CheckQuery, response: { 200: CheckAnswer } },
    handler: async function checkAuthorization(request, reply: FastifyReply) {
      const { org, permission } = request.query;
      const check = { org, permission, writes: checksWrite(request.method, request.headers) };
      const decided = decideCheck(request.ctx, request.auth!, tenancy, check);
      const found = decided instanceof Promise ? await decided : decided;
      reply.headers(identityHeaders(found));
      return checkBody(found);
    },
  });
}
