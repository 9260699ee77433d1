// One-row lookups on the request path of every uncached credential, run below Kysely:
// compiling a query and passing it through Kysely's executor (connection provider, mutex,
// result plumbing) cost more than running it. The SQL is still written with Kysely, once, in
// the capability's store, and compiled once per database.
//   SQLite: the prepared statement runs synchronously when no transaction is open on the
//     connection (one is open while another request's withTx holds it; then Kysely queues
//     the read behind it, as for any other query).
//   PostgreSQL: a named prepared statement straight on the pool, parsed and planned once
//     per connection.
// Both drivers hand the row over as an array of values, which `decode` turns into the row
// object: better-sqlite3 builds a named row through V8's C++ API one property at a time, which
// cost more than the query itself on the forward-auth miss (~1.3 of ~5.5 µs); an object
// literal in JS gets one hidden class and is made in a few nanoseconds.
// Inside a transaction (ctx.db is not the root instance) the query goes through Kysely on
// that transaction, so it sees what the transaction sees.
import type SqliteDatabase from 'better-sqlite3';
import { type Compilable, CompiledQuery } from 'kysely';
import type pg from 'pg';
import type { Ctx, Db } from './context.ts';

type RawConnection =
  | {
      readonly kind: 'sqlite';
      readonly database: SqliteDatabase.Database;
      /**
       * Prepares a statement of the hot query's own. The database's prepare hands Kysely
       * statements shared by SQL text, and a hot query switches its statement to raw rows,
       * which would then reach Kysely's queries of the same text as arrays.
       */
      readonly prepare: SqliteDatabase.Database['prepare'];
    }
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

/** The selected values of one row, in the order the query selects them. */
export type RowValues = readonly unknown[];

/**
 * A lookup of at most one row, `build` giving the query with placeholder values in the
 * order `parameters` will supply them, `decode` the row from its values in select order.
 * `name` names the PostgreSQL prepared statement.
 */
export function hotQuery<Row>(
  name: string,
  build: (db: Db) => Compilable<unknown>,
  decode: (values: RowValues) => Row,
): HotQuery<Row> {
  const compiled = new WeakMap<Db, CompiledQuery<unknown>>();
  const statements = new WeakMap<Db, SqliteDatabase.Statement>();

  function compiledFor(db: Db): CompiledQuery<unknown> {
    let query = compiled.get(db);
    if (!query) {
      query = build(db).compile();
      compiled.set(db, query);
    }
    return query;
  }

  async function throughKysely(ctx: Ctx, parameters: readonly unknown[]): Promise<Row | undefined> {
    const query = CompiledQuery.raw(build(ctx.db).compile().sql, [...parameters]);
    const row = (await ctx.db.executeQuery<Record<string, unknown>>(query)).rows[0];
    // Both drivers name a row's properties in select order.
    return row === undefined ? undefined : decode(Object.values(row));
  }

  return (ctx, parameters) => {
    const raw = rawConnections.get(ctx.db);
    if (!raw) return throughKysely(ctx, parameters);
    const { sql } = compiledFor(ctx.db);
    if (raw.kind === 'sqlite') {
      if (raw.database.inTransaction) return throughKysely(ctx, parameters);
      let statement = statements.get(ctx.db);
      if (!statement) {
        statement = raw.prepare(sql).raw(true);
        statements.set(ctx.db, statement);
      }
      const values = statement.get(...parameters) as RowValues | undefined;
      return values === undefined ? undefined : decode(values);
    }
    return raw.pool
      .query<unknown[]>({ name, text: sql, values: [...parameters], rowMode: 'array' })
      .then((result) => {
        const values = result.rows[0];
        return values === undefined ? undefined : decode(values);
      });
  };
}
