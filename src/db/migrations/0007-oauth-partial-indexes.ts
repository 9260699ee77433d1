// Only device codes carry a user code and only sign-in sessions a uid, yet every artifact
// row paid an entry in both lookup indexes (NULLs are indexed too). Partial indexes over the
// rows that have one leave a token or grant insert two index writes lighter; `= ?` lookups
// still use them, on SQLite and PostgreSQL alike, since equality implies NOT NULL.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

const LOOKUPS = [
  { name: 'oauth_artifacts_user_code_idx', column: 'user_code' },
  { name: 'oauth_artifacts_uid_idx', column: 'uid' },
] as const;

export async function up(db: AnyDb): Promise<void> {
  for (const { name, column } of LOOKUPS) {
    await db.schema.dropIndex(name).execute();
    await db.schema
      .createIndex(name)
      .on('oauth_artifacts')
      .columns(['model', column])
      .where(sql.ref(column), 'is not', null)
      .execute();
  }
}

export async function down(db: AnyDb): Promise<void> {
  for (const { name, column } of LOOKUPS) {
    await db.schema.dropIndex(name).execute();
    await db.schema.createIndex(name).on('oauth_artifacts').columns(['model', column]).execute();
  }
}
