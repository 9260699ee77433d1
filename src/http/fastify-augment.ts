// Request-scoped values decorated onto Fastify, and the route config every route must carry.
import type { Authentication } from '../authn/index.ts';
import type { RoutePermission } from '../authz/index.ts';
import type { Ctx } from '../db/index.ts';
import type { OrgAccess } from '../tenancy/index.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the caller needs (SPEC §1); `public` is declared explicitly, never implied. */
    permission?: RoutePermission;
    /**
     * `not_a_state_change` exempts a route from the cookie CSRF check on unsafe methods:
     * forward auth, which a proxy calls with the original request's method.
     * `signed_cross_site_post` exempts a browser form route that an IdP's page posts to
     * (the SAML ACS): the signed response and the flow it must answer stand in for the token.
     */
    csrf?: 'not_a_state_change' | 'signed_cross_site_post';
  }
  interface FastifyRequest {
    ctx: Ctx;
    auth: Authentication | undefined;
    /** Set by the guard on `/v1/orgs/:org/...` routes: the org and the caller's live role in it. */
    orgAccess: OrgAccess | undefined;
    /**
     * The CSRF token this request's page or client must echo on unsafe requests: for /v1,
     * bound to the session cookie (header X-CSRF-Token); for browser forms, the hidden
     * `csrf_token` field bound to the form cookie.
     */
    csrfToken: string | undefined;
  }
}
