// Row types for Kysely. Timestamps are epoch milliseconds (bigint in PostgreSQL, integer in
// SQLite; db/open.ts makes pg return them as numbers). Flags are 0/1 integers on both.
export interface OrgsTable {
  id: string;
  slug: string;
  name: string;
  default_role: string;
  session_idle_timeout_ms: number;
  session_absolute_lifetime_ms: number;
  /** 1: password sign-in refused for members (the break-glass admin excepted). */
  sso_required: number;
  break_glass_user_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface UsersTable {
  id: string;
  email: string;
  /** Lower-cased email: the unique, case-insensitive lookup column. */
  email_normalized: string;
  name: string;
  status: string;
  password_hash: string | null;
  created_at: number;
  updated_at: number;
}

export interface MembershipsTable {
  org_id: string;
  user_id: string;
  role: string;
  role_source: string;
  /** JSON: the rule and group that decided an SSO-managed role, for the role explanation. */
  role_reason_json: string | null;
  /** `active`, or `suspended` in this org only (an IdP deactivated them over SCIM). */
  status: string;
  created_at: number;
  updated_at: number;
}

export interface GroupsTable {
  id: string;
  org_id: string;
  name: string;
  name_normalized: string;
  source: string;
  /** The SSO connection a synced group came from; null for manual and SCIM groups. */
  connection_id: string | null;
  /** The IdP's id for a SCIM group (RFC 7643 §3.1 externalId). */
  external_id: string | null;
  /** Bumped on every change a SCIM client could see, for meta.version ETags. */
  version: number;
  updated_at: number;
  created_at: number;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
  created_at: number;
}

export interface ProjectsTable {
  id: string;
  org_id: string;
  name: string;
  name_normalized: string;
  description: string;
  created_at: number;
  updated_at: number;
}

export interface ServiceAccountsTable {
  id: string;
  org_id: string;
  name: string;
  name_normalized: string;
  role: string;
  created_at: number;
  disabled_at: number | null;
}

export interface SessionsTable {
  id: string;
  token_digest: string;
  user_id: string;
  auth_method: string;
  connection_id: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: number;
  last_seen_at: number;
  idle_timeout_ms: number;
  expires_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

export interface LoginThrottleTable {
  /** `account:<normalized email>` or `ip:<address>`. */
  key: string;
  failures: number;
  window_started_at: number;
  locked_until: number | null;
}

export interface SetupTokensTable {
  id: string;
  token_digest: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface AuditChainsTable {
  /** The org id, or '' for instance-level events that belong to no org. */
  chain_id: string;
  last_seq: number;
  last_hash: string;
}

export interface AuditEventsTable {
  id: string;
  chain_id: string;
  seq: number;
  org_id: string | null;
  action: string;
  actor_kind: string;
  actor_id: string | null;
  target_kind: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  data_json: string;
  occurred_at: number;
  prev_hash: string;
  hash: string;
}

export interface ApiKeysTable {
  id: string;
  /** The 12-character public part of the token, `gk_<key_id>_…`. */
  key_id: string;
  /** SHA-256 of the whole token. */
  secret_digest: string;
  org_id: string;
  /** Exactly one of user_id and service_account_id is set: the key's owner. */
  user_id: string | null;
  service_account_id: string | null;
  name: string;
  read_only: number;
  /** The user who made it (an admin, for service-account keys); null for operator commands. */
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  revoke_reason: string | null;
  /** The key this one replaced by rotation, and the key that replaced this one. */
  rotated_from: string | null;
  replaced_by: string | null;
}

export interface ScimTokensTable {
  id: string;
  /** The 12-character public part of the token, `gks_<key_id>_…`. */
  key_id: string;
  /** SHA-256 of the whole token. */
  secret_digest: string;
  org_id: string;
  name: string;
  /** The admin who made it. */
  created_by: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface SsoConnectionsTable {
  id: string;
  org_id: string;
  type: string;
  name: string;
  name_normalized: string;
  preset: string;
  enabled: number;
  /** JSON of the connection's non-secret settings (issuer, client id, claim names…). */
  settings_json: string;
  /** Serialized envelope of the connection's secret (client secret or private key), if any. */
  secret_envelope: string | null;
  created_at: number;
  updated_at: number;
}

export interface SsoDomainsTable {
  id: string;
  org_id: string;
  /** Lower-cased, without a trailing dot. */
  domain: string;
  connection_id: string | null;
  default_role: string;
  verification_token: string;
  verified_at: number | null;
  /** `dns` or `operator`. */
  verified_by: string | null;
  created_at: number;
}

export interface SsoIdentitiesTable {
  connection_id: string;
  subject: string;
  user_id: string;
  email: string;
  created_at: number;
  last_sign_in_at: number;
}

export interface SsoFlowsTable {
  state: string;
  connection_id: string;
  binding_digest: string;
  /** `sign_in` or `test`. */
  purpose: string;
  return_to: string | null;
  login_hint: string | null;
  /** SAML: the AuthnRequest ID the Response must name in InResponseTo. */
  saml_request_id: string | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface SsoSamlAssertionsTable {
  connection_id: string;
  assertion_id: string;
  expires_at: number;
}

export interface RoleRulesTable {
  id: string;
  org_id: string;
  connection_id: string | null;
  /** `group` (the user is in the group) or `claim` (a claim has the value). */
  match_kind: string;
  claim: string | null;
  value: string;
  role: string;
  created_at: number;
}

/** What oidc-provider stores through its adapter (src/oauth/adapter.ts), one row per model and id. */
export interface OauthArtifactsTable {
  /** oidc-provider's model name: AccessToken, AuthorizationCode, RefreshToken, Grant, Session, Client, … */
  model: string;
  id: string;
  payload_json: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  /** Epoch ms; null for what does not expire (registered clients). */
  expires_at: number | null;
  consumed_at: number | null;
  /** The payload's `accountId` (a user id), for reading a token's user with it; null if none. */
  account_id: string | null;
}

export interface OauthSigningKeysTable {
  /** The JWK `kid`. */
  id: string;
  alg: string;
  public_jwk_json: string;
  /** The private JWK as an envelope under the master key, AAD `oauth_signing_key:<id>`. */
  private_jwk_envelope: string;
  /** `next`, `current` or `retired`. */
  state: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

/** A grant a user approved on the consent page, by client; see migration 0005. */
export interface OauthConsentsTable {
  grant_id: string;
  user_id: string;
  client_id: string;
  resource: string;
  /** Space-separated scopes approved for `resource`. */
  scope: string;
  created_at: number;
}

/** A confidential OAuth client acting as a service account; see migration 0006. */
export interface OauthServiceAccountClientsTable {
  client_id: string;
  org_id: string;
  service_account_id: string;
  name: string;
  secret_envelope: string;
  created_by: string | null;
  created_at: number;
}

/** A user an IdP provisioned into one org over SCIM; see migration 0010. */
export interface ScimUsersTable {
  org_id: string;
  user_id: string;
  user_name: string;
  /** Lower-cased: userName is unique per org, case-insensitively (RFC 7643 §4.1.1). */
  user_name_normalized: string;
  external_id: string | null;
  display_name_normalized: string | null;
  active: number;
  /** The resource as last written, without id and meta. */
  document_json: string;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface ScimUserEmailsTable {
  org_id: string;
  user_id: string;
  position: number;
  value_normalized: string;
}

export interface Database {
  orgs: OrgsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  projects: ProjectsTable;
  service_accounts: ServiceAccountsTable;
  sessions: SessionsTable;
  login_throttle: LoginThrottleTable;
  setup_tokens: SetupTokensTable;
  audit_chains: AuditChainsTable;
  audit_events: AuditEventsTable;
  api_keys: ApiKeysTable;
  scim_tokens: ScimTokensTable;
  scim_users: ScimUsersTable;
  scim_user_emails: ScimUserEmailsTable;
  sso_connections: SsoConnectionsTable;
  sso_domains: SsoDomainsTable;
  sso_identities: SsoIdentitiesTable;
  sso_flows: SsoFlowsTable;
  sso_saml_assertions: SsoSamlAssertionsTable;
  role_rules: RoleRulesTable;
  oauth_artifacts: OauthArtifactsTable;
  oauth_signing_keys: OauthSigningKeysTable;
  oauth_consents: OauthConsentsTable;
  oauth_service_account_clients: OauthServiceAccountClientsTable;
}
