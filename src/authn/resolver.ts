import { GatehouseError, isGatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';
import type {
  Authentication,
  CredentialCarrier,
  CredentialKind,
  CredentialTransport,
  PresentedCredentials,
  ResolvedCredential,
} from './credential-kind.ts';
import { authnErrors } from './errors.ts';
import type { FailureLimiter } from './failure-limiter.ts';

export type Authenticated = Authentication | undefined;

export interface CredentialResolver {
  /**
   * undefined when the request carries no credential at all (anonymous). Answers
   * synchronously when the credential kind did (a cached credential): on the hot path a
   * promise per request is a measurable share of the whole request.
   */
  authenticate(ctx: Ctx, carrier: CredentialCarrier): Authenticated | Promise<Authenticated>;
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

  function refused(ctx: Ctx, error: unknown): unknown {
    if (isGatehouseError(error) && error.status === 401) limiter.recordFailure(ctx.ip, ctx.clock.now());
    return error;
  }

  return {
    authenticate(ctx, carrier) {
      const { authorization, cookies, surface } = carrier;
      let bearer: string | undefined;
      if (authorization !== undefined) {
        limiter.check(ctx.ip, ctx.clock.now());
        bearer = bearerToken(authorization);
        if (bearer === undefined)
          throw refused(
            ctx,
            new GatehouseError(authnErrors.malformedAuthorization, { field: 'Authorization' }),
          );
      }
      const presented: PresentedCredentials = { bearer, cookies, surface };
      for (const kind of ordered) {
        const credential = kind.extract(presented);
        if (credential === undefined) continue;
        if (kind.transport === 'cookie') limiter.check(ctx.ip, ctx.clock.now());
        let answer: ReturnType<CredentialKind['resolve']>;
        try {
          answer = kind.resolve(ctx, credential, presented);
        } catch (error) {
          throw refused(ctx, error);
        }
        const { transport } = kind;
        if (!(answer instanceof Promise)) return authenticated(answer, transport, credential);
        return answer.then(
          (resolved) => authenticated(resolved, transport, credential),
          (error: unknown) => {
            throw refused(ctx, error);
          },
        );
      }
      if (bearer !== undefined)
        throw refused(ctx, new GatehouseError(authnErrors.unsupportedCredential, { field: 'Authorization' }));
      return undefined;
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
