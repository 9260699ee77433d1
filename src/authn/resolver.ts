import { GatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';
import type { Authentication, CredentialCarrier, CredentialKind } from './credential-kind.ts';
import { authnErrors } from './errors.ts';

export interface CredentialResolver {
  /** undefined when the request carries no credential at all (anonymous). */
  authenticate(ctx: Ctx, carrier: CredentialCarrier): Promise<Authentication | undefined>;
}

/**
 * Header credentials win over cookies: a program sending a bearer token from a browser
 * context must not silently act as the signed-in user instead.
 */
export function createCredentialResolver(kinds: readonly CredentialKind[]): CredentialResolver {
  const ordered = [
    ...kinds.filter((k) => k.transport === 'header'),
    ...kinds.filter((k) => k.transport === 'cookie'),
  ];
  return {
    async authenticate(ctx, carrier) {
      for (const kind of ordered) {
        const credential = kind.extract(carrier);
        if (credential === undefined) continue;
        const principal = await kind.resolve(ctx, credential);
        return { principal, transport: kind.transport, credential };
      }
      if (carrier.authorization !== undefined) throw new GatehouseError(authnErrors.unsupportedCredential);
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
