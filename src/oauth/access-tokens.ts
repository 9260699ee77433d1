// Access tokens in the one credential resolver (SPEC §2): `Authorization: Bearer <jwt>` works
// wherever an API key does, for the resource it was issued for. A token is a JWT (RFC 9068)
// from this server's issuer, signed by a key of its published set, of type at+jwt, with the
// resource in `aud` (RFC 8707): `<public url>/v1` for the JSON API and forward auth,
// `<public url>/mcp` for the MCP server, and it is accepted only on that surface. It acts
// for its user (`sub`), narrowed to its scopes (permission names, authz/decide.ts); what the
// user may do in an org is still their live membership, looked up per request as for any
// credential. Verified tokens are cached by the SHA-256 of the token until they expire, and
// dropped on every node when their user is suspended, deprovisioned or changes role.
import { createPublicKey } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import { decodeProtectedHeader, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import {
  authnErrors,
  type CredentialKind,
  type Resolution,
  type ResolvedCredential,
  type ResourceSurface,
} from '../authn/index.ts';
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

/** The surfaces an access token can be for: no OAuth resource is the SCIM surface's. */
type TokenSurface = Exclude<ResourceSurface, 'scim'>;

export interface AccessTokenKindDeps {
  readonly issuer: string;
  /** The resource URL a token must name in `aud` to be accepted on each surface. */
  readonly audiences: Readonly<Record<TokenSurface, string>>;
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

/** Why a token was refused: the code answered, and the detail that stays in the log. */
class TokenRefusal extends Error {
  constructor(
    readonly definition: ErrorDefinition,
    reason: string,
  ) {
    super(reason);
  }
}

type Verify = (token: string) => JWTPayload;

/**
 * One verifier per published key, chosen by the token's `kid`: fast-jwt verifies on
 * node:crypto synchronously, at about two thirds of the CPU of jose's WebCrypto path (the
 * cold check is dominated by it, bench/README.md). It checks the signature (ES256 only),
 * `iss`, `typ` and the claims every token must carry; time and audience are checked by the
 * caller, against the request's clock and the surface.
 */
function verifiersFor(source: JSONWebKeySet, issuer: string): ReadonlyMap<string, Verify> {
  const verifiers = new Map<string, Verify>();
  for (const jwk of source.keys) {
    if (jwk.kid === undefined || jwk.kty !== 'EC' || jwk.crv !== 'P-256') continue;
    const key = createPublicKey({ key: jwk as JWK & { kty: string }, format: 'jwk' });
    const verify = createVerifier({
      key: key.export({ type: 'spki', format: 'pem' }) as string,
      algorithms: ['ES256'],
      allowedIss: issuer,
      checkTyp: 'at+jwt',
      requiredClaims: ['exp', 'sub', 'jti', 'aud'],
      ignoreExpiration: true,
      ignoreNotBefore: true,
    });
    verifiers.set(jwk.kid, verify as Verify);
  }
  return verifiers;
}

function audiencesOf(claims: JWTPayload): readonly string[] {
  const { aud } = claims;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((value): value is string => typeof value === 'string') : [];
}

function headerKid(header: string): string | undefined {
  try {
    const kid = decodeProtectedHeader({ protected: header }).kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
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
  // Rebuilt only when the published set changes, not per request. Every token a key signs
  // has the same encoded header (alg, typ, kid): once a token under a header has verified,
  // that header picks the verifier without being decoded again. Only headers of tokens that
  // verified are remembered, so a caller cannot grow the map with headers of their own.
  let keySet:
    | { source: JSONWebKeySet; byKid: ReadonlyMap<string, Verify>; byHeader: Map<string, Verify> }
    | undefined;
  function verifiedPayload(token: string): JWTPayload {
    const source = deps.publishedKeys();
    if (keySet?.source !== source)
      keySet = { source, byKid: verifiersFor(source, deps.issuer), byHeader: new Map() };
    const header = token.slice(0, token.indexOf('.'));
    const known = keySet.byHeader.get(header);
    const kid = known === undefined ? headerKid(header) : undefined;
    const verify = known ?? (kid === undefined ? undefined : keySet.byKid.get(kid));
    if (verify === undefined)
      throw new TokenRefusal(oauthErrors.tokenInvalid, 'no published key has this kid');
    let payload: JWTPayload;
    try {
      payload = verify(token);
    } catch (error) {
      throw new TokenRefusal(oauthErrors.tokenInvalid, (error as Error).message);
    }
    if (known === undefined) keySet.byHeader.set(header, verify);
    return payload;
  }

  function forSurface(token: VerifiedToken, surface: ResourceSurface): ResolvedCredential | GatehouseError {
    return surface !== 'scim' && token.audiences.includes(deps.audiences[surface])
      ? token.resolved
      : refusal(oauthErrors.wrongAudience);
  }

  /**
   * The claims of a token signed by this server's published keys, unexpired at `now`, for any
   * of its resources (whether it is the surface's, the caller decides); throws TokenRefusal.
   */
  function verifiedClaims(token: string, now: number): JWTPayload {
    const claims = verifiedPayload(token);
    const { exp, nbf, sub, jti } = claims;
    if (typeof exp !== 'number' || typeof sub !== 'string' || typeof jti !== 'string')
      throw new TokenRefusal(oauthErrors.tokenInvalid, 'exp, sub or jti has the wrong type');
    const tolerance = CLOCK_TOLERANCE_SECONDS * 1000;
    if (exp * 1000 + tolerance <= now) throw new TokenRefusal(oauthErrors.tokenExpired, 'expired');
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf * 1000 - tolerance > now))
      throw new TokenRefusal(oauthErrors.tokenInvalid, 'not valid yet');
    if (!audiencesOf(claims).some((audience) => knownAudiences.includes(audience)))
      throw new TokenRefusal(oauthErrors.wrongAudience, 'for a resource of another server');
    return claims;
  }

  /**
   * A token not in the cache: verified, then its user's standing (synchronous on SQLite, so a
   * cold check on the embedded database makes no promise) or its client's service account.
   * Refusals are returned, not thrown (Resolution).
   */
  function verify(
    ctx: Ctx,
    token: string,
    digest: string,
    now: number,
    surface: ResourceSurface,
  ): Resolution {
    const ticket = verified.ticket();
    let claims: JWTPayload;
    try {
      claims = verifiedClaims(token, now);
    } catch (error) {
      if (!(error instanceof TokenRefusal)) throw error;
      // The detail stays in the log, never in the answer.
      ctx.log.info({ reason: error.message }, 'access token refused');
      return refusal(error.definition);
    }
    // The resource before anything else: a token for another surface says nothing here.
    const audiences = audiencesOf(claims);
    if (surface === 'scim' || !audiences.includes(deps.audiences[surface]))
      return refusal(oauthErrors.wrongAudience);
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    const userId = claims.sub as string;
    const until = Math.min((claims.exp as number) * 1000, now + deps.cache.ttlMs);
    // Client-credentials tokens carry the client id as `sub`: they act as the client's service
    // account, if it has one, in that account's org only.
    if (!userId.startsWith('usr_')) {
      const clientId = claims.client_id;
      if (typeof clientId !== 'string') return refusal(oauthErrors.noUser);
      return deps.clientActor(ctx, clientId).then((actor) => {
        if (!actor) return refusal(oauthErrors.noUser);
        if (!actor.enabled) return refusal(oauthErrors.serviceAccountDisabled);
        const principal: Principal = {
          kind: 'service_account',
          id: actor.serviceAccountId,
          orgRestriction: actor.org.id,
          scopes,
          authMethod: 'oauth',
          credentialId: claims.jti as string,
        };
        // The org and live role come with the client, as an API key's do; a role change drops
        // the cached token (serviceAccountLifecycle).
        const resolved: ResolvedCredential = { principal, boundOrg: { org: actor.org, role: actor.role } };
        const keys = [actor.serviceAccountId, clientId];
        verified.set(ctx, digest, { resolved, audiences }, until, keys, ticket, now);
        return resolved;
      });
    }
    // A revoked grant (consent withdrawn, a refresh token or code replayed) ends its tokens
    // before they expire: JWTs are not stored, their grant is.
    const grantClaim = claims[GRANT_CLAIM];
    const grantId = typeof grantClaim === 'string' ? grantClaim : undefined;
    const decide = (standing: TokenStanding): ResolvedCredential | GatehouseError => {
      if (standing.userStatus !== 'active') return refusal(oauthErrors.userInactive);
      if (grantId === undefined || !standing.grantStands) return refusal(oauthErrors.grantRevoked);
      const principal: Principal = {
        kind: 'user',
        id: userId,
        scopes,
        authMethod: 'oauth',
        credentialId: claims.jti as string,
      };
      const resolved: ResolvedCredential = { principal };
      verified.set(ctx, digest, { resolved, audiences }, until, [userId, grantId], ticket, now);
      return resolved;
    };
    const standing = deps.standing(ctx, userId, grantId ?? '');
    return standing instanceof Promise ? standing.then(decide) : decide(standing);
  }

  const credentialKind: CredentialKind = {
    id: 'oauth_access_token',
    transport: 'header',
    // Every JWT starts with an encoded `{"`; its whole shape is checked only when it is not a
    // token verified before (a hit is one whose shape was checked then).
    extract: (presented) => (presented.bearer?.startsWith('eyJ') ? presented.bearer : undefined),
    resolve(ctx, token, presented) {
      const now = ctx.clock.now();
      const digest = sha256Hex(token);
      const cached = verified.get(ctx, digest, now);
      if (cached !== undefined) return forSurface(cached, presented.surface);
      if (!JWT_SHAPE.test(token))
        return new GatehouseError(authnErrors.unsupportedCredential, { field: 'Authorization' });
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
      claims = verifiedClaims(token, ctx.clock.now());
    } catch (error) {
      if (error instanceof TokenRefusal) return undefined;
      throw error;
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
