import { GatehouseError, isGatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';
import type {
  Authentication,
  CredentialCarrier,
  CredentialKind,
  CredentialTransport,
  PresentedCredentials,
  Resolution,
  ResolvedCredential,
  ResourceSurface,
} from './credential-kind.ts';
import { authnErrors } from './errors.ts';
import type { FailureLimiter } from './failure-limiter.ts';

export type Authenticated = Authentication | undefined;

const DEFAULT_SURFACES: readonly ResourceSurface[] = ['api', 'mcp'];

/** Who is calling, or the refusal that answers them, now or once the store has answered. */
export type Attempt = Authenticated | GatehouseError | Promise<Authenticated | GatehouseError>;

export interface CredentialResolver {
  /**
   * undefined when the request carries no credential at all (anonymous); throws (or rejects
   * with) the refusal. Answers synchronously when the credential kind did (a cached
   * credential): on the hot path a promise per request is a measurable share of the whole
   * request.
   */
  authenticate(ctx: Ctx, carrier: CredentialCarrier): Authenticated | Promise<Authenticated>;
  /**
   * The same, with the refusal returned instead of thrown: what forward auth uses, where a
   * flood of bad credentials would otherwise pay for a throw on every request. Errors that are
   * not refusals (the database is down) are still thrown.
   */
  attempt(ctx: Ctx, carrier: CredentialCarrier): Attempt;
}

/**
 * Header credentials win over cookies: a program sending a bearer token from a browser
 * context must not silently act as the signed-in user instead. Every refused credential
 * counts against the caller's address in `limiter`.
 */
export function createCredentialResolver(
  kinds: readonly CredentialKind[],
  limiter: FailureLimiter,
): CredentialResolver {
  const ordered = [
    ...kinds.filter((k) => k.transport === 'header'),
    ...kinds.filter((k) => k.transport === 'cookie'),
  ];
  // Worked out once: the kinds each surface accepts, in that order.
  const surfaces: readonly ResourceSurface[] = ['api', 'mcp', 'scim'];
  const bySurface = Object.fromEntries(
    surfaces.map((surface) => [
      surface,
      ordered.filter((kind) => (kind.surfaces ?? DEFAULT_SURFACES).includes(surface)),
    ]),
  ) as Record<ResourceSurface, CredentialKind[]>;

  function refused(ctx: Ctx, error: GatehouseError): GatehouseError {
    if (error.status === 401) limiter.recordFailure(ctx.ip, ctx.clock.now());
    return error;
  }

  /** A kind's answer as the resolver's: refusals counted and returned, the credential recorded. */
  function settled(
    ctx: Ctx,
    answer: ResolvedCredential | GatehouseError,
    transport: CredentialTransport,
    credential: string,
  ): Authentication | GatehouseError {
    return answer instanceof GatehouseError
      ? refused(ctx, answer)
      : authenticated(answer, transport, credential);
  }

  /** A refusal a kind threw (the kinds off the hot path throw theirs) is returned like the others. */
  function caught(ctx: Ctx, error: unknown): GatehouseError {
    if (isGatehouseError(error)) return refused(ctx, error);
    throw error;
  }

  function attempt(ctx: Ctx, carrier: CredentialCarrier): Attempt {
    const { authorization, cookies, surface } = carrier;
    let bearer: string | undefined;
    if (authorization !== undefined) {
      const overLimit = limiter.refusal(ctx.ip, ctx.clock.now());
      if (overLimit) return overLimit;
      bearer = bearerToken(authorization);
      if (bearer === undefined)
        return refused(
          ctx,
          new GatehouseError(authnErrors.malformedAuthorization, { field: 'Authorization' }),
        );
    }
    const presented: PresentedCredentials = { bearer, cookies, surface };
    for (const kind of bySurface[surface]) {
      const credential = kind.extract(presented);
      if (credential === undefined) continue;
      if (kind.transport === 'cookie') {
        const overLimit = limiter.refusal(ctx.ip, ctx.clock.now());
        if (overLimit) return overLimit;
      }
      let answer: Resolution;
      try {
        answer = kind.resolve(ctx, credential, presented);
      } catch (error) {
        return caught(ctx, error);
      }
      const { transport } = kind;
      if (!(answer instanceof Promise)) return settled(ctx, answer, transport, credential);
      return answer.then(
        (resolved) => settled(ctx, resolved, transport, credential),
        (error: unknown) => caught(ctx, error),
      );
    }
    if (bearer !== undefined)
      return refused(ctx, new GatehouseError(authnErrors.unsupportedCredential, { field: 'Authorization' }));
    return undefined;
  }

  return {
    attempt,
    authenticate(ctx, carrier) {
      const answer = attempt(ctx, carrier);
      if (answer instanceof GatehouseError) throw answer;
      if (!(answer instanceof Promise)) return answer;
      return answer.then((found) => {
        if (found instanceof GatehouseError) throw found;
        return found;
      });
    },
  };
}

/**
 * Built property by property: V8 (Node 20) gives `{ ...resolved, transport, credential }` a
 * new hidden class on every call (see deriveCtx in db/context.ts).
 */
function authenticated(
  resolved: ResolvedCredential,
  transport: CredentialTransport,
  credential: string,
): Authentication {
  return { principal: resolved.principal, boundOrg: resolved.boundOrg, transport, credential };
}

/** Reads a `Bearer` token from an Authorization header value. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
  return match?.[1];
}
