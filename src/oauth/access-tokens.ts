// Access tokens in the one credential resolver (SPEC §2): `Authorization: Bearer <jwt>` works
// wherever an API key does, for the resource it was issued for. A token is a JWT (RFC 9068)
// from this server's issuer, signed by a key of its published set, of type at+jwt, with the
// resource in `aud` (RFC 8707): `<public url>/v1` for the JSON API and forward auth,
// `<public url>/mcp` for the MCP server, and it is accepted only on that surface. It acts
// for its user (`sub`), narrowed to its scopes (permission names, authz/decide.ts); what the
// user may do in an org is still their live membership, looked up per request as for any
// credential. Verified tokens are cached by the SHA-256 of the token until they expire, and
// dropped on every node when their user is suspended, deprovisioned or changes role.
import {
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { CredentialKind, ResolvedCredential, ResourceSurface } from '../authn/index.ts';
import type { Principal } from '../core/context.ts';
import { type ErrorDefinition, GatehouseError } from '../core/errors.ts';
import { sha256Hex } from '../core/secrets.ts';
import { type Ctx, createSharedCache, type Notifications } from '../db/index.ts';
import type { ServiceAccountLifecycleListener, UserLifecycleListener } from '../tenancy/index.ts';
import type { TokenStanding } from './consent-store.ts';
import { oauthErrors } from './errors.ts';
import type { ClientActor } from './service-account-clients.ts';

const ACCESS_TOKEN_CHANNEL = 'oauth_access_tokens';
const JWT_SHAPE = /^eyJ[\w-]*\.eyJ[\w-]*\.[\w-]+$/;
/** Clock difference tolerated with the other nodes that issue and verify tokens. */
const CLOCK_TOLERANCE_SECONDS = 30;

export interface AccessTokenKindDeps {
  readonly issuer: string;
  /** The resource URL a token must name in `aud` to be accepted on each surface. */
  readonly audiences: Readonly<Record<ResourceSurface, string>>;
  /** The signing keys' public halves as published now (they change on rotation). */
  readonly publishedKeys: () => JSONWebKeySet;
  readonly notifications: Notifications;
  readonly cache: { readonly enabled: boolean; readonly ttlMs: number; readonly maxEntries: number };
  /**
   * The user's account status (a deprovisioned user's token stops) and whether the grant the
   * token was issued under still stands (not revoked, not expired); read on every cache miss.
   */
  readonly standing: (ctx: Ctx, userId: string, grantId: string) => TokenStanding | Promise<TokenStanding>;
  /** The service account a client-credentials client acts as (service-account-clients.ts). */
  readonly clientActor: (ctx: Ctx, clientId: string) => Promise<ClientActor | undefined>;
}

/** The claim naming the grant a user's token was issued under (provider.ts extraTokenClaims). */
export const GRANT_CLAIM = 'gid';

function refusal(definition: ErrorDefinition): GatehouseError {
  return new GatehouseError(definition, { field: 'Authorization' });
}

/** jose's verdict in our codes; the detail stays in the log, never in the answer. */
function refusalFor(error: unknown): GatehouseError {
  if (error instanceof joseErrors.JWTExpired) return refusal(oauthErrors.tokenExpired);
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud')
    return refusal(oauthErrors.wrongAudience);
  return refusal(oauthErrors.tokenInvalid);
}

/** A verified token and the resources it names, checked against the surface on every use. */
interface VerifiedToken {
  readonly resolved: ResolvedCredential;
  readonly audiences: readonly string[];
}

export function createAccessTokenKind(deps: AccessTokenKindDeps) {
  const knownAudiences = Object.values(deps.audiences);
  const verified = createSharedCache<VerifiedToken>(deps.notifications, ACCESS_TOKEN_CHANNEL, {
    maxEntries: deps.cache.enabled ? deps.cache.maxEntries : 0,
  });
  // Rebuilt only when the published set changes, not per request.
  let keySet: { source: JSONWebKeySet; verify: ReturnType<typeof createLocalJWKSet> } | undefined;
  function keys() {
    const source = deps.publishedKeys();
    if (keySet?.source !== source) keySet = { source, verify: createLocalJWKSet(source) };
    return keySet.verify;
  }

  function forSurface(token: VerifiedToken, surface: ResourceSurface): ResolvedCredential {
    if (!token.audiences.includes(deps.audiences[surface])) throw refusal(oauthErrors.wrongAudience);
    return token.resolved;
  }

  /** The claims of a token signed by this server's published keys, for any of its resources. */
  async function verifiedClaims(token: string, now: number): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, keys(), {
      issuer: deps.issuer,
      // Any resource of this server here; whether it is the surface's, the caller decides.
      audience: knownAudiences,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      currentDate: new Date(now),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'sub', 'jti'],
    });
    return payload;
  }

  async function verify(
    ctx: Ctx,
    token: string,
    digest: string,
    now: number,
    surface: ResourceSurface,
  ): Promise<ResolvedCredential> {
    const ticket = verified.ticket();
    let claims: JWTPayload;
    try {
      claims = await verifiedClaims(token, now);
    } catch (error) {
      ctx.log.info({ reason: (error as Error).message }, 'access token refused');
      throw refusalFor(error);
    }
    // The resource before anything else: a token for another surface says nothing here.
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
    if (!audiences.includes(deps.audiences[surface])) throw refusal(oauthErrors.wrongAudience);
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    const userId = claims.sub as string;
    // Client-credentials tokens carry the client id as `sub`: they act as the client's service
    // account, if it has one, in that account's org only.
    if (!userId.startsWith('usr_')) {
      const clientId = claims.client_id;
      const actor = typeof clientId === 'string' ? await deps.clientActor(ctx, clientId) : undefined;
      if (!actor) throw refusal(oauthErrors.noUser);
      if (!actor.enabled) throw refusal(oauthErrors.serviceAccountDisabled);
      const principal: Principal = {
        kind: 'service_account',
        id: actor.serviceAccountId,
        orgRestriction: actor.org.id,
        scopes,
        authMethod: 'oauth',
        credentialId: claims.jti as string,
      };
      // The org and live role come with the client, as an API key's do; a role change drops the
      // cached token (serviceAccountLifecycle).
      const resolved: ResolvedCredential = { principal, boundOrg: { org: actor.org, role: actor.role } };
      const until = Math.min((claims.exp as number) * 1000, now + deps.cache.ttlMs);
      verified.set(
        ctx,
        digest,
        { resolved, audiences },
        until,
        [actor.serviceAccountId, clientId as string],
        ticket,
        now,
      );
      return resolved;
    }
    // A revoked grant (consent withdrawn, a refresh token or code replayed) ends its tokens
    // before they expire: JWTs are not stored, their grant is.
    const grantId = claims[GRANT_CLAIM];
    const standing = await deps.standing(ctx, userId, typeof grantId === 'string' ? grantId : '');
    if (standing.userStatus !== 'active') throw refusal(oauthErrors.userInactive);
    if (typeof grantId !== 'string' || !standing.grantStands) throw refusal(oauthErrors.grantRevoked);
    const principal: Principal = {
      kind: 'user',
      id: userId,
      scopes,
      authMethod: 'oauth',
      credentialId: claims.jti as string,
    };
    const resolved: ResolvedCredential = { principal };
    const until = Math.min((claims.exp as number) * 1000, now + deps.cache.ttlMs);
    verified.set(ctx, digest, { resolved, audiences }, until, [userId, grantId], ticket, now);
    return resolved;
  }

  const credentialKind: CredentialKind = {
    id: 'oauth_access_token',
    transport: 'header',
    extract: (presented) =>
      presented.bearer !== undefined && JWT_SHAPE.test(presented.bearer) ? presented.bearer : undefined,
    resolve(ctx, token, presented) {
      const now = ctx.clock.now();
      const digest = sha256Hex(token);
      const cached = verified.get(ctx, digest, now);
      if (cached !== undefined) return forSurface(cached, presented.surface);
      return verify(ctx, token, digest, now, presented.surface);
    },
  };

  const userLifecycle: UserLifecycleListener = {
    onUserDeactivated: (ctx, event) => verified.invalidate(ctx, event.userId),
    // Nothing to drop: a token holds no role; the live membership decides per request.
    onRoleChanged: async () => {},
  };

  /**
   * RFC 7662's view of a token this server issued (oidc-provider introspects only the tokens it
   * stores, not JWTs): its claims while it is active — signed, unexpired, and for a user's
   * token the user active and the grant standing — else undefined.
   */
  async function introspect(ctx: Ctx, token: string): Promise<JWTPayload | undefined> {
    let claims: JWTPayload;
    try {
      claims = await verifiedClaims(token, ctx.clock.now());
    } catch {
      return undefined;
    }
    const subject = claims.sub as string;
    if (!subject.startsWith('usr_')) {
      const actor =
        typeof claims.client_id === 'string' ? await deps.clientActor(ctx, claims.client_id) : undefined;
      return actor === undefined || actor.enabled ? claims : undefined;
    }
    const grantId = claims[GRANT_CLAIM];
    if (typeof grantId !== 'string') return undefined;
    const standing = await deps.standing(ctx, subject, grantId);
    return standing.userStatus === 'active' && standing.grantStands ? claims : undefined;
  }

  const serviceAccountLifecycle: ServiceAccountLifecycleListener = {
    // Disabled, deleted or with another role: the next request looks the account up again.
    onServiceAccountChanged: (ctx, event) => verified.invalidate(ctx, event.serviceAccountId),
  };

  return {
    credentialKind,
    userLifecycle,
    serviceAccountLifecycle,
    /** Drops verified tokens of a deleted client on every node (once ctx commits). */
    clientRemoved: (ctx: Ctx, clientId: string) => verified.invalidate(ctx, clientId),
    introspect,
    /** Drops verified tokens of a revoked grant on every node (once ctx commits). */
    grantRevoked: (ctx: Ctx, grantId: string) => verified.invalidate(ctx, grantId),
  };
}
