// Consent given on Gatehouse's consent page (SPEC §4): one row per grant a user approved for
// a client, with what it covers. oidc-provider's own grant record has no index by user, and
// consent is remembered per user and client (not per browser, as the library's session
// would), listed and revoked from /v1/me/grants.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('oauth_consents')
    .addColumn('grant_id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    // The resource every token of the grant is bound to (RFC 8707), and the scopes approved for it.
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('oauth_consents_user_client_idx')
    .on('oauth_consents')
    .columns(['user_id', 'client_id', 'created_at'])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('oauth_consents').ifExists().execute();
}
