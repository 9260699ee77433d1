// One resolver turns any credential into a Principal (SPEC §2). Each credential kind
// (session cookie, API key; OAuth access tokens and SCIM tokens later) implements
// CredentialKind and is listed by hand in services.ts. Nothing after the resolver branches
// on the kind.
import type { Principal } from '../core/context.ts';
import type { GatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';

/**
 * The Gatehouse surface a request is for: `api` (/v1, forward auth and the browser pages),
 * `mcp` (/mcp) or `scim` (/scim/v2). A credential bound to one resource (an OAuth access
 * token, RFC 8707) works only on its own.
 */
export type ResourceSurface = 'api' | 'mcp' | 'scim';

/** The parts of a request a credential can travel in, and the surface it is presented to. */
export interface CredentialCarrier {
  readonly authorization: string | undefined;
  readonly cookies: Readonly<Record<string, string | undefined>>;
  readonly surface: ResourceSurface;
}

/** What a kind looks at: the bearer token (the resolver parsed the header once) and the cookies. */
export interface PresentedCredentials {
  readonly bearer: string | undefined;
  readonly cookies: Readonly<Record<string, string | undefined>>;
  readonly surface: ResourceSurface;
}

/** How the credential travelled: cookie-borne credentials need CSRF checks on writes. */
export type CredentialTransport = 'cookie' | 'header';

export interface CredentialKind {
  readonly id: string;
  readonly transport: CredentialTransport;
  /**
   * The surfaces it is accepted on; absent, every surface but `scim`, where SCIM tokens are the
   * only credential (and they are accepted nowhere else).
   */
  readonly surfaces?: readonly ResourceSurface[];
  /** The raw credential if this kind recognises one in the request. No I/O. */
  extract(presented: PresentedCredentials): string | undefined;
  /**
   * Verifies the credential. A refusal (an authn error, 401) is returned or thrown; a kind on
   * the hot path returns it, because a throw costs V8 a walk of the stack to record where it
   * came from, which made a flood of bad keys cost twice a valid one. May answer
   * synchronously (a cache hit), which spares the hot path a promise.
   */
  resolve(ctx: Ctx, credential: string, presented: PresentedCredentials): Resolution;
}

/** A verified credential or its refusal, now or once the store has answered. */
export type Resolution = ResolvedCredential | GatehouseError | Promise<ResolvedCredential | GatehouseError>;

/**
 * The org a credential is bound to (API keys), and the role its owner holds there, read
 * together with the credential itself, so an org-scoped request with it needs no second
 * lookup. `role` is a role name (authz owns the type; authn sits beside it, not above it).
 */
export interface BoundOrg {
  readonly org: { readonly id: string; readonly slug: string; readonly name: string };
  readonly role: string;
}

export interface ResolvedCredential {
  readonly principal: Principal;
  readonly boundOrg?: BoundOrg;
}

export interface Authentication extends ResolvedCredential {
  readonly transport: CredentialTransport;
  /** The raw credential, kept only in memory for this request (e.g. to derive the CSRF token). */
  readonly credential: string;
}
