// API keys (SPEC §2, §4). A key belongs to one org and is owned by a user (it inherits the
// user's live role there) or a service account. Only the SHA-256 digest of the whole token
// is kept; `key_id` is the public part of the token, used for the lookup. Rotation makes a
// new row and gives the old one an expiry, so each secret keeps its own last-used time.
// service_account_id has no foreign key: deleting an account revokes its keys, and the
// revoked rows stay as history.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key_id', 'text', (c) => c.notNull().unique())
    .addColumn('secret_digest', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('service_account_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('read_only', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoke_reason', 'text')
    .addColumn('rotated_from', 'text')
    .addColumn('replaced_by', 'text')
    .execute();
  await db.schema.createIndex('api_keys_org_idx').on('api_keys').columns(['org_id', 'id']).execute();
  await db.schema.createIndex('api_keys_user_idx').on('api_keys').column('user_id').execute();
  await db.schema
    .createIndex('api_keys_service_account_idx')
    .on('api_keys')
    .column('service_account_id')
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('api_keys').ifExists().execute();
}
