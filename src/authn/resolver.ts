import { GatehouseError, isGatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';
import type { Authentication, CredentialCarrier, CredentialKind } from './credential-kind.ts';
import { authnErrors } from './errors.ts';
import type { FailureLimiter } from './failure-limiter.ts';

export interface CredentialResolver {
  /** undefined when the request carries no credential at all (anonymous). */
  authenticate(ctx: Ctx, carrier: CredentialCarrier): Promise<Authentication | undefined>;
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
    async authenticate(ctx, carrier) {
      const { authorization, cookies } = carrier;
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
      const presented = { bearer, cookies };
      for (const kind of ordered) {
        const credential = kind.extract(presented);
        if (credential === undefined) continue;
        if (kind.transport === 'cookie') limiter.check(ctx.ip, ctx.clock.now());
        try {
          const answer = kind.resolve(ctx, credential);
          const { principal, boundOrg } = answer instanceof Promise ? await answer : answer;
          return { principal, boundOrg, transport: kind.transport, credential };
        } catch (error) {
          throw refused(ctx, error);
        }
      }
      if (bearer !== undefined)
        throw refused(ctx, new GatehouseError(authnErrors.unsupportedCredential, { field: 'Authorization' }));
      return undefined;
    },
  };
}

/** Reads a `Bearer` token from an Authorization header value. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
  return match?.[1];
}
