// Who the IdP says signed in, the same shape for OIDC and SAML: subject, email and whether
// the IdP vouches for it, name, groups, the claims or attributes for claim rules, and how the
// protocol checks went (for the test sign-in report).
import type { LoadedOidcConnection, LoadedSamlConnection } from './connections.ts';
import { groupsFromClaim } from './mapping/role-rules.ts';
import type { VerifiedSignIn } from './oidc/client.ts';
import type { SamlIdentity } from './saml/service-provider.ts';

/** One line of the test sign-in report. */
export interface ReportStep {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Who the IdP says signed in, the same for OIDC and SAML. */
export interface IdpIdentity {
  readonly subject: string;
  readonly email: string | undefined;
  /** OIDC: `email_verified`; SAML: the connection's trust flag. */
  readonly emailVerified: boolean;
  readonly name: string | undefined;
  readonly groups: readonly string[];
  /** For claim rules: the ID-token and userinfo claims, or the SAML attributes. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** How the protocol checks went, for the test report. */
  readonly checks: readonly ReportStep[];
}

export function oidcIdentity(connection: LoadedOidcConnection, signIn: VerifiedSignIn): IdpIdentity {
  const { claims } = signIn;
  const email = typeof claims.email === 'string' ? claims.email.trim() || undefined : undefined;
  // Some IdPs send the flag as a string.
  const emailVerified = claims.email_verified === true || claims.email_verified === 'true';
  const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim() : undefined;
  return {
    subject: signIn.subject,
    email,
    emailVerified,
    name,
    groups: groupsFromClaim(claims[connection.settings.groups_claim]),
    claims,
    checks: [
      { step: 'discovery', ok: true, detail: connection.settings.issuer },
      { step: 'authorization_response', ok: true, detail: 'code and state returned' },
      { step: 'token_exchange', ok: true, detail: 'code exchanged with PKCE' },
      {
        step: 'id_token',
        ok: true,
        detail: `signature, iss, aud, exp, iat and nonce valid; sub ${signIn.subject}`,
      },
      { step: 'userinfo', ok: true, detail: signIn.userinfoUsed ? 'claims merged' : 'not used' },
    ],
  };
}

export function samlIdentity(connection: LoadedSamlConnection, verified: SamlIdentity): IdpIdentity {
  return {
    subject: verified.subject,
    email: verified.email,
    emailVerified: connection.settings.trust_email,
    name: verified.name,
    groups: groupsFromClaim(verified.groups),
    claims: verified.attributes,
    checks: [
      { step: 'saml_response', ok: true, detail: 'well-formed, no DTD, Destination is this ACS' },
      {
        step: 'signature',
        ok: true,
        detail: `assertion signed by a certificate of ${connection.settings.idp_entity_id}`,
      },
      {
        step: 'conditions',
        ok: true,
        detail: 'audience, NotBefore and NotOnOrAfter valid; Recipient is this ACS; InResponseTo matches',
      },
      { step: 'name_id', ok: true, detail: verified.subject },
    ],
  };
}
