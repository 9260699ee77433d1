// SCIM provisioning (SPEC §5). `scim_users` keeps, per org, the resource an IdP provisioned:
// the user it maps to, the attributes filters run on (lower-cased where SCIM compares them
// case-insensitively, RFC 7643 §2.2) beside indexes, the whole document as sent, and a version
// for ETags. `scim_user_emails` holds one row per email for `emails.value` filters. Groups gain
// what SCIM needs of them (externalId, a version, a last-modified time), and memberships a
// status: an IdP suspends a person in its own org, not their account everywhere.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('scim_users')
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('user_name_normalized', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('display_name_normalized', 'text')
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('document_json', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('scim_users_pk', ['org_id', 'user_id'])
    .addUniqueConstraint('scim_users_user_name_uq', ['org_id', 'user_name_normalized'])
    // The resource is the membership as the IdP describes it: removed with it, by any path.
    .addForeignKeyConstraint(
      'scim_users_membership_fk',
      ['org_id', 'user_id'],
      'memberships',
      ['org_id', 'user_id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('scim_users_external_id_idx')
    .on('scim_users')
    .columns(['org_id', 'external_id'])
    .execute();
  await db.schema
    .createIndex('scim_users_display_name_idx')
    .on('scim_users')
    .columns(['org_id', 'display_name_normalized'])
    .execute();
  await db.schema
    .createIndex('scim_users_updated_idx')
    .on('scim_users')
    .columns(['org_id', 'updated_at'])
    .execute();
  await db.schema.createIndex('scim_users_user_idx').on('scim_users').column('user_id').execute();

  await db.schema
    .createTable('scim_user_emails')
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('value_normalized', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('scim_user_emails_pk', ['org_id', 'user_id', 'position'])
    .addForeignKeyConstraint(
      'scim_user_emails_user_fk',
      ['org_id', 'user_id'],
      'scim_users',
      ['org_id', 'user_id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('scim_user_emails_value_idx')
    .on('scim_user_emails')
    .columns(['org_id', 'value_normalized'])
    .execute();

  await db.schema.alterTable('groups').addColumn('external_id', 'text').execute();
  await db.schema
    .alterTable('groups')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('groups')
    .addColumn('updated_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db
    .updateTable('groups')
    .set({ updated_at: sql.ref('created_at') })
    .execute();
  await db.schema
    .createIndex('groups_external_id_idx')
    .on('groups')
    .columns(['org_id', 'external_id'])
    .execute();
  await db.schema.createIndex('groups_updated_idx').on('groups').columns(['org_id', 'updated_at']).execute();

  await db.schema
    .alterTable('memberships')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('memberships').dropColumn('status').execute();
  await db.schema.dropIndex('groups_updated_idx').execute();
  await db.schema.dropIndex('groups_external_id_idx').execute();
  await db.schema.alterTable('groups').dropColumn('updated_at').execute();
  await db.schema.alterTable('groups').dropColumn('version').execute();
  await db.schema.alterTable('groups').dropColumn('external_id').execute();
  await db.schema.dropTable('scim_user_emails').ifExists().execute();
  await db.schema.dropTable('scim_users').ifExists().execute();
}
