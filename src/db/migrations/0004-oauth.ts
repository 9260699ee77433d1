// The OAuth 2.0 authorization server (SPEC §2, §4): what oidc-provider persists through its
// storage adapter (codes, tokens, grants, sessions, interactions, registered clients; one
// table keyed by model and id, so every node sees what another issued), and the signing
// keys of its JWT access tokens, shared by all nodes, private halves only as an envelope
// under the master key (core/envelope.ts).
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('oauth_artifacts')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload_json', 'text', (c) => c.notNull())
    // Set for everything issued under one grant, so revoking the grant reaches all of it.
    .addColumn('grant_id', 'text')
    .addColumn('user_code', 'text')
    .addColumn('uid', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .addPrimaryKeyConstraint('oauth_artifacts_pk', ['model', 'id'])
    .execute();
  await db.schema.createIndex('oauth_artifacts_grant_idx').on('oauth_artifacts').column('grant_id').execute();
  await db.schema
    .createIndex('oauth_artifacts_user_code_idx')
    .on('oauth_artifacts')
    .columns(['model', 'user_code'])
    .execute();
  await db.schema
    .createIndex('oauth_artifacts_uid_idx')
    .on('oauth_artifacts')
    .columns(['model', 'uid'])
    .execute();
  await db.schema
    .createIndex('oauth_artifacts_expiry_idx')
    .on('oauth_artifacts')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('oauth_signing_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk_json', 'text', (c) => c.notNull())
    .addColumn('private_jwk_envelope', 'text', (c) => c.notNull())
    // `next` (published, not yet signing), `current` (signing; exactly one), `retired`
    // (published until the tokens it signed have expired).
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('activated_at', 'bigint')
    .addColumn('retired_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('oauth_signing_keys_state_idx')
    .on('oauth_signing_keys')
    .column('state')
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('oauth_signing_keys').ifExists().execute();
  await db.schema.dropTable('oauth_artifacts').ifExists().execute();
}
