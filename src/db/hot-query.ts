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
 * How a hot lookup runs many at once on PostgreSQL. Under load, requests parsed in one turn of
 * the event loop each wait on the same kind of lookup; sent one by one, each pays a round trip
 * and pg's per-query work on the one core (more than the lookup itself). Gathered until the
 * turn's I/O is done (setImmediate) and sent as one statement, they share both. A lookup alone
 * in its turn runs the one-row statement, as without a batch; so does each lookup of a batch
 * whose statement failed.
 */
export interface PostgresBatch {
  /** Names the batch's prepared statement. */
  readonly name: string;
  /**
   * PostgreSQL SQL over arrays: $k holds every lookup's k-th parameter, cast to the array of
   * its type (`$1::text[]`). One row per lookup that found one, with the values `decode` takes
   * and, last, the lookup's 1-based position (`unnest(…) with ordinality`, cast to int).
   */
  readonly sql: string;
}

/** More lookups than this wait for the next statement: a statement's arrays stay small. */
const MAX_BATCH = 64;

interface Waiter<Row> {
  readonly resolve: (row: Row | undefined) => void;
  readonly reject: (error: unknown) => void;
}

interface PendingBatch<Row> {
  /** columns[k][i]: lookup i's k-th parameter. */
  readonly columns: unknown[][];
  readonly waiters: Waiter<Row>[];
  /** Handed to the pool (full, or its turn ended); the other of the two no-ops. */
  sent: boolean;
}

/**
 * A lookup of at most one row, `build` giving the query with placeholder values in the
 * order `parameters` will supply them, `decode` the row from its values in select order.
 * `name` names the PostgreSQL prepared statement; `batch`, when given, gathers the lookups of
 * one event-loop turn on PostgreSQL into one statement (PostgresBatch).
 */
export function hotQuery<Row>(
  name: string,
  build: (db: Db) => Compilable<unknown>,
  decode: (values: RowValues) => Row,
  batch?: PostgresBatch,
): HotQuery<Row> {
  const prepared = preparedSql(build, true);
  const pending = new WeakMap<pg.Pool, PendingBatch<Row>>();

  async function throughKysely(db: Db, parameters: readonly unknown[]): Promise<Row | undefined> {
    const query = CompiledQuery.raw(build(db).compile().sql, [...parameters]);
    const row = (await db.executeQuery<Record<string, unknown>>(query)).rows[0];
    // Both drivers name a row's properties in select order.
    return row === undefined ? undefined : decode(Object.values(row));
  }

  function one(db: Db, pool: pg.Pool, parameters: readonly unknown[]): Promise<Row | undefined> {
    return pool
      .query<unknown[]>({ name, text: prepared.sql(db), values: [...parameters], rowMode: 'array' })
      .then((result) => {
        const values = result.rows[0];
        return values === undefined ? undefined : decode(values);
      });
  }

  function send(db: Db, pool: pg.Pool, gathered: PendingBatch<Row>, spec: PostgresBatch): void {
    if (gathered.sent) return;
    gathered.sent = true;
    if (pending.get(pool) === gathered) pending.delete(pool);
    const { columns, waiters } = gathered;
    if (waiters.length === 1) {
      const [waiter] = waiters as [Waiter<Row>];
      one(
        db,
        pool,
        columns.map((column) => column[0]),
      ).then(waiter.resolve, waiter.reject);
      return;
    }
    pool.query<unknown[]>({ name: spec.name, text: spec.sql, values: columns, rowMode: 'array' }).then(
      (result) => {
        const found = new Array<Row | undefined>(waiters.length);
        for (const values of result.rows) found[(values[values.length - 1] as number) - 1] = decode(values);
        for (let i = 0; i < waiters.length; i++) (waiters[i] as Waiter<Row>).resolve(found[i]);
      },
      // One lookup's bad parameter (a value its array cannot be cast to) would fail the whole
      // statement: each lookup then runs alone, so it fails only itself, as unbatched.
      () => {
        for (let i = 0; i < waiters.length; i++) {
          const waiter = waiters[i] as Waiter<Row>;
          one(
            db,
            pool,
            columns.map((column) => column[i]),
          ).then(waiter.resolve, waiter.reject);
        }
      },
    );
  }

  function gather(db: Db, pool: pg.Pool, parameters: readonly unknown[], spec: PostgresBatch) {
    let gathered = pending.get(pool);
    if (gathered === undefined) {
      gathered = { columns: parameters.map(() => []), waiters: [], sent: false };
      pending.set(pool, gathered);
      setImmediate(send, db, pool, gathered, spec);
    }
    const { columns, waiters } = gathered;
    for (let k = 0; k < parameters.length; k++) (columns[k] as unknown[]).push(parameters[k]);
    const answer = new Promise<Row | undefined>((resolve, reject) => waiters.push({ resolve, reject }));
    // A full batch goes now, and the turn's later lookups start the next one; its timer then
    // finds it sent.
    if (waiters.length === MAX_BATCH) send(db, pool, gathered, spec);
    return answer;
  }

  return ({ db }, parameters) => {
    const raw = rawConnectionFor(db);
    if (!raw) return throughKysely(db, parameters);
    if (raw.kind === 'sqlite') {
      const values = prepared.sqliteStatement(db, raw).get(...parameters) as RowValues | undefined;
      return values === undefined ? undefined : decode(values);
    }
    return batch === undefined ? one(db, raw.pool, parameters) : gather(db, raw.pool, parameters, batch);
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
