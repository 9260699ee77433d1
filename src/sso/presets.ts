// SSO presets (SPEC §3): data only. A preset pre-fills the settings of the one
// standards-based OIDC implementation for a well-known identity provider: where its issuer
// lives, which scopes it needs to send email and groups, and which claims carry them. It
// changes no behaviour and no check.

export interface OidcPreset {
  readonly id: string;
  readonly label: string;
  readonly type: 'oidc';
  /** A fixed issuer (social sign-in), or undefined when the admin gives their tenant's. */
  readonly issuer?: string;
  /** What the admin's issuer looks like, for the admin console and error messages. */
  readonly issuerExample: string;
  readonly scopes: readonly string[];
  readonly groupsClaim: string;
  /** Social sign-in: anyone with an account at the provider; joins an org only through a verified domain. */
  readonly social: boolean;
}

const STANDARD_SCOPES = ['openid', 'email', 'profile'] as const;

export const oidcPresets: readonly OidcPreset[] = [
  {
    id: 'generic_oidc',
    label: 'OpenID Connect',
    type: 'oidc',
    issuerExample: 'https://idp.example.com',
    scopes: STANDARD_SCOPES,
    groupsClaim: 'groups',
    social: false,
  },
  {
    id: 'okta',
    label: 'Okta',
    type: 'oidc',
    issuerExample: 'https://example.okta.com',
    // Okta sends `groups` only when the app's groups claim is configured and the scope asked.
    scopes: [...STANDARD_SCOPES, 'groups'],
    groupsClaim: 'groups',
    social: false,
  },
  {
    id: 'entra_id',
    label: 'Microsoft Entra ID',
    type: 'oidc',
    issuerExample: 'https://login.microsoftonline.com/<tenant id>/v2.0',
    scopes: STANDARD_SCOPES,
    // Entra sends group object ids in `groups` when the app registration's groupMembershipClaims is set.
    groupsClaim: 'groups',
    social: false,
  },
  {
    id: 'auth0',
    label: 'Auth0',
    type: 'oidc',
    issuerExample: 'https://example.us.auth0.com/',
    scopes: STANDARD_SCOPES,
    groupsClaim: 'groups',
    social: false,
  },
  {
    id: 'pingone',
    label: 'PingOne',
    type: 'oidc',
    issuerExample: 'https://auth.pingone.com/<environment id>/as',
    scopes: STANDARD_SCOPES,
    groupsClaim: 'groups',
    social: false,
  },
  {
    id: 'keycloak',
    label: 'Keycloak',
    type: 'oidc',
    issuerExample: 'https://keycloak.example.com/realms/<realm>',
    scopes: STANDARD_SCOPES,
    groupsClaim: 'groups',
    social: false,
  },
  {
    id: 'adfs',
    label: 'AD FS',
    type: 'oidc',
    issuerExample: 'https://adfs.example.com/adfs',
    scopes: [...STANDARD_SCOPES, 'allatclaims'],
    groupsClaim: 'groups',
    social: false,
  },
  {
    id: 'google_workspace',
    label: 'Google Workspace',
    type: 'oidc',
    issuer: 'https://accounts.google.com',
    issuerExample: 'https://accounts.google.com',
    scopes: STANDARD_SCOPES,
    groupsClaim: 'groups',
    social: false,
  },
  {
    id: 'google',
    label: 'Google',
    type: 'oidc',
    issuer: 'https://accounts.google.com',
    issuerExample: 'https://accounts.google.com',
    scopes: STANDARD_SCOPES,
    groupsClaim: 'groups',
    social: true,
  },
  {
    id: 'microsoft',
    label: 'Microsoft account',
    type: 'oidc',
    issuer: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0',
    issuerExample: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0',
    scopes: STANDARD_SCOPES,
    groupsClaim: 'groups',
    social: true,
  },
];

export function findPreset(id: string): OidcPreset | undefined {
  return oidcPresets.find((p) => p.id === id);
}

/** SAML presets: where each IdP puts email, name and groups in its attribute statement. */
export interface SamlPreset {
  readonly id: string;
  readonly label: string;
  readonly type: 'saml';
  readonly emailAttribute: string;
  readonly nameAttribute: string;
  readonly groupsAttribute: string;
}

const MS_CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';

export const samlPresets: readonly SamlPreset[] = [
  {
    id: 'generic_saml',
    label: 'SAML 2.0',
    type: 'saml',
    emailAttribute: 'email',
    nameAttribute: 'name',
    groupsAttribute: 'groups',
  },
  {
    id: 'okta_saml',
    label: 'Okta (SAML)',
    type: 'saml',
    emailAttribute: 'email',
    nameAttribute: 'name',
    groupsAttribute: 'groups',
  },
  {
    id: 'entra_id_saml',
    label: 'Microsoft Entra ID (SAML)',
    type: 'saml',
    emailAttribute: `${MS_CLAIMS}/emailaddress`,
    nameAttribute: `${MS_CLAIMS}/name`,
    groupsAttribute: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
  },
  {
    id: 'adfs_saml',
    label: 'AD FS (SAML)',
    type: 'saml',
    emailAttribute: `${MS_CLAIMS}/emailaddress`,
    nameAttribute: `${MS_CLAIMS}/name`,
    groupsAttribute: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  },
  {
    id: 'google_workspace_saml',
    label: 'Google Workspace (SAML)',
    type: 'saml',
    emailAttribute: 'email',
    nameAttribute: 'name',
    groupsAttribute: 'groups',
  },
  {
    id: 'pingone_saml',
    label: 'PingOne (SAML)',
    type: 'saml',
    emailAttribute: 'email',
    nameAttribute: 'name',
    groupsAttribute: 'groups',
  },
  {
    id: 'keycloak_saml',
    label: 'Keycloak (SAML)',
    type: 'saml',
    emailAttribute: 'email',
    nameAttribute: 'name',
    groupsAttribute: 'groups',
  },
];

export function findSamlPreset(id: string): SamlPreset | undefined {
  return samlPresets.find((p) => p.id === id);
}
