// One-row lookups on the request path of every uncached credential, run below Kysely:
// compiling a query and passing it through Kysely's executor (connection provider, mutex,
// result plumbing) cost more than running it. The SQL is still written with Kysely, once, in
// the capability's store, and compiled once per database.
//   SQLite: the prepared statement runs synchronously when no transaction is open on the
//     connection (one is open while another request's withTx holds it; then Kysely queues
//     the read behind it, as for any other query).
//   PostgreSQL: a named prepared statement straight on the pool, parsed and planned once
//     per connection.
// Inside a transaction (ctx.db is not the root instance) the query goes through Kysely on
// that transaction, so it sees what the transaction sees.
import type SqliteDatabase from 'better-sqlite3';
import { type Compilable, CompiledQuery } from 'kysely';
import type pg from 'pg';
import type { Ctx, Db } from './context.ts';

type RawConnection =
  | { readonly kind: 'sqlite'; readonly database: SqliteDatabase.Database }
  | { readonly kind: 'postgres'; readonly pool: pg.Pool };

const rawConnections = new WeakMap<Db, RawConnection>();

/** open.ts registers the driver behind each root Kysely instance it makes. */
export function registerRawConnection(db: Db, connection: RawConnection): void {
  rawConnections.set(db, connection);
}

export type HotQuery<Row> = (
  ctx: Ctx,
  parameters: readonly unknown[],
) => Row | undefined | Promise<Row | undefined>;

/**
 * A lookup of at most one row, `build` giving the query with placeholder values in the
 * order `parameters` will supply them. `name` names the PostgreSQL prepared statement.
 */
export function hotQuery<Row>(name: string, build: (db: Db) => Compilable<Row>): HotQuery<Row> {
  const compiled = new WeakMap<Db, CompiledQuery<Row>>();
  const statements = new WeakMap<Db, SqliteDatabase.Statement>();

  function compiledFor(db: Db): CompiledQuery<Row> {
    let query = compiled.get(db);
    if (!query) {
      query = build(db).compile();
      compiled.set(db, query);
    }
    return query;
  }

  async function throughKysely(ctx: Ctx, parameters: readonly unknown[]): Promise<Row | undefined> {
    const query = CompiledQuery.raw(build(ctx.db).compile().sql, [...parameters]) as CompiledQuery<Row>;
    return (await ctx.db.executeQuery<Row>(query)).rows[0];
  }

  return (ctx, parameters) => {
    const raw = rawConnections.get(ctx.db);
    if (!raw) return throughKysely(ctx, parameters);
    const { sql } = compiledFor(ctx.db);
    if (raw.kind === 'sqlite') {
      if (raw.database.inTransaction) return throughKysely(ctx, parameters);
      let statement = statements.get(ctx.db);
      if (!statement) {
        statement = raw.database.prepare(sql);
        statements.set(ctx.db, statement);
      }
      return statement.get(...parameters) as Row | undefined;
    }
    return raw.pool
      .query({ name, text: sql, values: [...parameters] })
      .then((result) => result.rows[0] as Row);
  };
}
