export type {
  Authentication,
  BoundOrg,
  CredentialCarrier,
  CredentialKind,
  CredentialTransport,
  PresentedCredentials,
  Resolution,
  ResolvedCredential,
  ResourceSurface,
} from './credential-kind.ts';
export { authnErrors } from './errors.ts';
export { createFailureLimiter, type FailureLimitConfig, type FailureLimiter } from './failure-limiter.ts';
export {
  type Attempt,
  type Authenticated,
  bearerToken,
  type CredentialResolver,
  createCredentialResolver,
} from './resolver.ts';
