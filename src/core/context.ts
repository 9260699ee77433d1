// What every service call receives: who is asking, from where, and the request's id and
// clock. The database handle is added by db/ (see db/context.ts), which core cannot import.
import type { Clock } from './clock.ts';

export type PrincipalKind = 'user' | 'service_account';

/** The one shape every credential resolves to (SPEC §2). */
export interface Principal {
  readonly kind: PrincipalKind;
  readonly id: string;
  /** The only org this credential may act in (API keys, SCIM tokens). */
  readonly orgRestriction?: string;
  /** OAuth scopes; undefined means the credential is not scope-limited. */
  readonly scopes?: readonly string[];
  /** The credential may only read (read-only API keys). */
  readonly readOnly?: boolean;
  readonly authMethod: string;
  /** The credential record behind the principal (session id, key id), for audit and revocation. */
  readonly credentialId?: string;
}

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BaseContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly requestId: string;
  readonly principal?: Principal;
  readonly ip?: string;
  readonly userAgent?: string;
}
