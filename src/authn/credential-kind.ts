// One resolver turns any credential into a Principal (SPEC §2). Each credential kind
// (session cookie here; API keys, OAuth access tokens and SCIM tokens later) implements
// CredentialKind and is listed by hand in services.ts. Nothing after the resolver branches
// on the kind.
import type { Principal } from '../core/context.ts';
import type { Ctx } from '../db/index.ts';

/** The parts of a request a credential can travel in. */
export interface CredentialCarrier {
  readonly authorization: string | undefined;
  readonly cookies: Readonly<Record<string, string | undefined>>;
}

/** How the credential travelled: cookie-borne credentials need CSRF checks on writes. */
export type CredentialTransport = 'cookie' | 'header';

export interface CredentialKind {
  readonly id: string;
  readonly transport: CredentialTransport;
  /** The raw credential if this kind recognises one in the request. No I/O. */
  extract(carrier: CredentialCarrier): string | undefined;
  /** Verifies the credential; throws an authn error (401) when it is not valid. */
  resolve(ctx: Ctx, credential: string): Promise<Principal>;
}

export interface Authentication {
  readonly principal: Principal;
  readonly transport: CredentialTransport;
  /** The raw credential, kept only in memory for this request (e.g. to derive the CSRF token). */
  readonly credential: string;
}
