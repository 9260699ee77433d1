// One-row lookups and single-statement writes on hot paths (every uncached credential, every
// token request's artifacts), run below Kysely: compiling a query and passing it through
// Kysely's executor (connection provider, mutex, result plumbing) cost more than running it.
// The SQL is still written with Kysely, once, in the capability's store, and compiled once
// per database.
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
import type { Db } from './context.ts';

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

/** What a hot query runs on: a request's ctx, or anything else holding the root Kysely instance. */
export interface DbOwner {
  readonly db: Db;
}

export type HotQuery<Row> = (
  owner: DbOwner,
  parameters: readonly unknown[],
) => Row | undefined | Promise<Row | undefined>;

/** A write run below Kysely; answers how many rows it changed. */
export type HotStatement = (owner: DbOwner, parameters: readonly unknown[]) => number | Promise<number>;

/** The selected values of one row, in the order the query selects them. */
export type RowValues = readonly unknown[];

/**
 * The SQL of `build`, compiled once per database, and on SQLite its own prepared statement
 * (raw rows for reads), both kept per root Kysely instance.
 */
function preparedSql(build: (db: Db) => Compilable<unknown>, rawRows: boolean) {
  const compiled = new WeakMap<Db, string>();
  const statements = new WeakMap<Db, SqliteDatabase.Statement>();
  return {
    sql(db: Db): string {
      let sql = compiled.get(db);
      if (sql === undefined) {
        sql = build(db).compile().sql;
        compiled.set(db, sql);
      }
      return sql;
    },
    sqliteStatement(db: Db, raw: Extract<RawConnection, { kind: 'sqlite' }>): SqliteDatabase.Statement {
      let statement = statements.get(db);
      if (!statement) {
        statement = raw.prepare(this.sql(db));
        if (rawRows) statement.raw(true);
        statements.set(db, statement);
      }
      return statement;
    },
  };
}

/**
 * The raw connection to run on, or undefined to go through Kysely: inside a transaction
 * (ctx.db is then not a root instance), or on SQLite while a transaction holds the one
 * connection (Kysely queues the query behind it, as for any other).
 */
function rawConnectionFor(db: Db): RawConnection | undefined {
  const raw = rawConnections.get(db);
  if (raw?.kind === 'sqlite' && raw.database.inTransaction) return undefined;
  return raw;
}

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
  const prepared = preparedSql(build, true);

  async function throughKysely(db: Db, parameters: readonly unknown[]): Promise<Row | undefined> {
    const query = CompiledQuery.raw(build(db).compile().sql, [...parameters]);
    const row = (await db.executeQuery<Record<string, unknown>>(query)).rows[0];
    // Both drivers name a row's properties in select order.
    return row === undefined ? undefined : decode(Object.values(row));
  }

  return ({ db }, parameters) => {
    const raw = rawConnectionFor(db);
    if (!raw) return throughKysely(db, parameters);
    if (raw.kind === 'sqlite') {
      const values = prepared.sqliteStatement(db, raw).get(...parameters) as RowValues | undefined;
      return values === undefined ? undefined : decode(values);
    }
    return raw.pool
      .query<unknown[]>({ name, text: prepared.sql(db), values: [...parameters], rowMode: 'array' })
      .then((result) => {
        const values = result.rows[0];
        return values === undefined ? undefined : decode(values);
      });
  };
}

/**
 * An insert, update or delete below Kysely, for writes on a hot path outside transactions
 * (inside one it runs on the transaction through Kysely, like hotQuery). `build` as for
 * hotQuery: placeholder values in the order `parameters` supplies them.
 */
export function hotStatement(name: string, build: (db: Db) => Compilable<unknown>): HotStatement {
  const prepared = preparedSql(build, false);

  async function throughKysely(db: Db, parameters: readonly unknown[]): Promise<number> {
    const result = await db.executeQuery(CompiledQuery.raw(build(db).compile().sql, [...parameters]));
    return Number(result.numAffectedRows ?? 0n);
  }

  return ({ db }, parameters) => {
    const raw = rawConnectionFor(db);
    if (!raw) return throughKysely(db, parameters);
    if (raw.kind === 'sqlite') return prepared.sqliteStatement(db, raw).run(...parameters).changes;
    return raw.pool
      .query({ name, text: prepared.sql(db), values: [...parameters] })
      .then((result) => result.rowCount ?? 0);
  };
}
