// Enterprise SSO (SPEC §3): connections to an org's identity providers, the email domains
// an org claims, the link between an IdP subject and a Gatehouse user, sign-ins in
// progress (in the database, so any node can finish a flow another node started), the
// org's group → role rules, and the org's SSO enforcement. Secrets of a connection (client
// secret, private key) are kept only as an envelope (core/envelope.ts).
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('sso_connections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_normalized', 'text', (c) => c.notNull())
    .addColumn('preset', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('settings_json', 'text', (c) => c.notNull())
    .addColumn('secret_envelope', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('sso_connections_org_name_uq', ['org_id', 'name_normalized'])
    .execute();

  await db.schema
    .createTable('sso_domains')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    // One org per domain: home-realm discovery must have exactly one answer.
    .addColumn('domain', 'text', (c) => c.notNull().unique())
    .addColumn('connection_id', 'text', (c) => c.references('sso_connections.id').onDelete('set null'))
    .addColumn('default_role', 'text', (c) => c.notNull())
    .addColumn('verification_token', 'text', (c) => c.notNull())
    .addColumn('verified_at', 'bigint')
    .addColumn('verified_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_domains_org_idx').on('sso_domains').column('org_id').execute();

  await db.schema
    .createTable('sso_identities')
    .addColumn('connection_id', 'text', (c) =>
      c.notNull().references('sso_connections.id').onDelete('cascade'),
    )
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_sign_in_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sso_identities_pk', ['connection_id', 'subject'])
    .execute();
  await db.schema.createIndex('sso_identities_user_idx').on('sso_identities').column('user_id').execute();

  // A sign-in in progress. The browser holds a random binding secret in a cookie; the row
  // keeps only its digest, and the PKCE verifier and nonce are derived from that secret, so
  // the row alone cannot finish the flow. `state` is the lookup key the IdP echoes back.
  await db.schema
    .createTable('sso_flows')
    .addColumn('state', 'text', (c) => c.primaryKey())
    .addColumn('connection_id', 'text', (c) =>
      c.notNull().references('sso_connections.id').onDelete('cascade'),
    )
    .addColumn('binding_digest', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text')
    .addColumn('login_hint', 'text')
    // SAML: the AuthnRequest ID the Response must answer (InResponseTo), bound to this flow.
    .addColumn('saml_request_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .execute();
  await db.schema.createIndex('sso_flows_expiry_idx').on('sso_flows').column('expires_at').execute();

  // SAML assertion ids already used, per connection, kept until the assertion expires: a
  // replayed assertion is refused on every node.
  await db.schema
    .createTable('sso_saml_assertions')
    .addColumn('connection_id', 'text', (c) =>
      c.notNull().references('sso_connections.id').onDelete('cascade'),
    )
    .addColumn('assertion_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sso_saml_assertions_pk', ['connection_id', 'assertion_id'])
    .execute();

  await db.schema
    .createTable('role_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    // null: the rule applies to sign-ins through any of the org's connections.
    .addColumn('connection_id', 'text', (c) => c.references('sso_connections.id').onDelete('cascade'))
    .addColumn('match_kind', 'text', (c) => c.notNull())
    .addColumn('claim', 'text')
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('role_rules_org_idx').on('role_rules').columns(['org_id', 'id']).execute();

  // Which rule and group decided a member's role, for the role explanation.
  await db.schema.alterTable('memberships').addColumn('role_reason_json', 'text').execute();
  // SSO enforcement: password sign-in refused for members, the break-glass admin excepted.
  await db.schema
    .alterTable('orgs')
    .addColumn('sso_required', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('orgs').addColumn('break_glass_user_id', 'text').execute();
  // Groups synced from an IdP belong to the connection that sent them.
  await db.schema.alterTable('groups').addColumn('connection_id', 'text').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('groups').dropColumn('connection_id').execute();
  await db.schema.alterTable('orgs').dropColumn('break_glass_user_id').execute();
  await db.schema.alterTable('orgs').dropColumn('sso_required').execute();
  await db.schema.alterTable('memberships').dropColumn('role_reason_json').execute();
  for (const table of [
    'role_rules',
    'sso_saml_assertions',
    'sso_flows',
    'sso_identities',
    'sso_domains',
    'sso_connections',
  ])
    await db.schema.dropTable(table).ifExists().execute();
}
