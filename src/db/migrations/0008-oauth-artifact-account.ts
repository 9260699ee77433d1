// The account (user id) a code or token was issued to, in a column of its own: a token
// request reads the token, its grant and its user in one query by joining on it
// (oauth/adapter.ts) instead of one round trip each. Rows written before it have none and are
// read the old way.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable('oauth_artifacts').addColumn('account_id', 'text').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('oauth_artifacts').dropColumn('account_id').execute();
}
