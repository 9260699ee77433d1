export type {
  Authentication,
  CredentialCarrier,
  CredentialKind,
  CredentialTransport,
} from './credential-kind.ts';
export { authnErrors } from './errors.ts';
export { bearerToken, type CredentialResolver, createCredentialResolver } from './resolver.ts';
