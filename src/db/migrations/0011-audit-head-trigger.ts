// The audit chain's head learns each new event's hash from the database itself: a trigger on
// audit_events sets audit_chains.last_hash. Appending an event was three statements after
// taking the chain's row lock (bump the head, insert the event, store its hash) and is now
// two; the lock is held to commit, so every statement less under it is throughput for an
// org's writers (a SCIM push provisions thousands of users one request at a time). Trigger
// syntax differs between the databases, so this migration, unlike the others, asks which it
// runs on.
import { type Kysely, SqliteAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
type AnyDb = Kysely<any>;

function onSqlite(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

export async function up(db: AnyDb): Promise<void> {
  if (onSqlite(db)) {
    await sql`create trigger audit_events_head_hash after insert on audit_events
      begin
        update audit_chains set last_hash = new.hash where chain_id = new.chain_id;
      end`.execute(db);
    return;
  }
  await sql`create function gatehouse_audit_head_hash() returns trigger language plpgsql as $$
    begin
      update audit_chains set last_hash = new.hash where chain_id = new.chain_id;
      return null;
    end $$`.execute(db);
  await sql`create trigger audit_events_head_hash after insert on audit_events
    for each row execute function gatehouse_audit_head_hash()`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  if (onSqlite(db)) {
    await sql`drop trigger if exists audit_events_head_hash`.execute(db);
    return;
  }
  await sql`drop trigger if exists audit_events_head_hash on audit_events`.execute(db);
  await sql`drop function if exists gatehouse_audit_head_hash()`.execute(db);
}
