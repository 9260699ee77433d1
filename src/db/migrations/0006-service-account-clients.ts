// Confidential OAuth clients that act as a service account (SPEC §4: client credentials):
// an admin makes one for a service account, and its client-credentials tokens act as that
// service account in its org. The secret is kept as an envelope under the master key, not as
// a digest: oidc-provider compares the presented secret with the stored one itself.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('oauth_service_account_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('service_account_id', 'text', (c) =>
      c.notNull().references('service_accounts.id').onDelete('cascade'),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    // AAD `oauth_client_secret:<client_id>`: an envelope moved to another row does not open.
    .addColumn('secret_envelope', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('oauth_sa_clients_owner_idx')
    .on('oauth_service_account_clients')
    .columns(['org_id', 'service_account_id'])
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('oauth_service_account_clients').ifExists().execute();
}
