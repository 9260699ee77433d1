// One-row lookups and single-statement writes on hot paths (every uncached credential, every
// token request's artifacts), run below Kysely: compiling a query and passing it through
// Kysely's executor (connection provider, mutex, result plumbing) cost more than running it.
// The SQL is still written with Kysely, once, in the capability's store, and compiled once
// per database.
//   SQLite: the prepared statement runs synchronously when no transaction is open on the
//     connection (one is open while another request's withTx holds it; then Kysely queues
//     the read behind it, as for any other query).
//   PostgreSQL: a named prepared statement straight on the pool, parsed and planned once
//     per connection; with a PostgresBatch, the calls of one event-loop turn as one statement.
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
 * How a hot lookup or write runs many at once on PostgreSQL. Under load, requests parsed in one
 * turn of the event loop each wait on the same kind of statement; sent one by one, each pays a
 * round trip and pg's per-query work on the one core (more than the statement itself).
 * Gathered until the turn's I/O is done (setImmediate) and sent as one statement, they share
 * both. One alone in its turn runs the one-row statement, as without a batch; so does each of
 * a batch whose statement failed (one bad parameter, or two writes of one row in one batch,
 * then fail or succeed as they would alone).
 */
export interface PostgresBatch {
  /** Names the batch's prepared statement. */
  readonly name: string;
  /**
   * PostgreSQL SQL over arrays: $k holds every lookup's k-th parameter, cast to the array of
   * its type (`$1::text[]`), numbered by `unnest(…) with ordinality`. A lookup's batch answers
   * one row per lookup that found one, with the values `decode` takes and, last, the lookup's
   * 1-based position (cast to int); a write's batch one row per row it changed, holding only
   * the position of the write that changed it.
   */
  readonly sql: string;
}

/** More than this wait for the next statement: a statement's arrays stay small. */
const MAX_BATCH = 64;

interface Waiter<Result> {
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

interface PendingBatch<Result> {
  /** columns[k][i]: statement i's k-th parameter. */
  readonly columns: unknown[][];
  readonly waiters: Waiter<Result>[];
  /** Handed to the pool (full, or its turn ended); the other of the two no-ops. */
  sent: boolean;
}

type RunOne<Result> = (db: Db, pool: pg.Pool, parameters: readonly unknown[]) => Promise<Result>;

/**
 * Gathers the calls of one turn per pool and answers each from the batch statement's rows
 * (`answers` maps them to one result per call, in call order).
 */
function batchedOnPostgres<Result>(
  spec: PostgresBatch,
  one: RunOne<Result>,
  answers: (rows: readonly unknown[][], count: number) => Result[],
): RunOne<Result> {
  const pending = new WeakMap<pg.Pool, PendingBatch<Result>>();

  function alone(db: Db, pool: pg.Pool, columns: readonly unknown[][], i: number, waiter: Waiter<Result>) {
    one(
      db,
      pool,
      columns.map((column) => column[i]),
    ).then(waiter.resolve, waiter.reject);
  }

  function send(db: Db, pool: pg.Pool, gathered: PendingBatch<Result>): void {
    if (gathered.sent) return;
    gathered.sent = true;
    if (pending.get(pool) === gathered) pending.delete(pool);
    const { columns, waiters } = gathered;
    if (waiters.length === 1) {
      alone(db, pool, columns, 0, waiters[0] as Waiter<Result>);
      return;
    }
    pool.query<unknown[]>({ name: spec.name, text: spec.sql, values: columns, rowMode: 'array' }).then(
      (result) => {
        const results = answers(result.rows, waiters.length);
        for (let i = 0; i < waiters.length; i++) (waiters[i] as Waiter<Result>).resolve(results[i] as Result);
      },
      // A statement the server refused changed nothing (it is atomic), so each runs alone. One
      // whose answer was lost with its connection may have committed: batch only writes that
      // can be repeated (the OAuth adapter's consume and save can).
      () => {
        for (let i = 0; i < waiters.length; i++) alone(db, pool, columns, i, waiters[i] as Waiter<Result>);
      },
    );
  }

  return (db, pool, parameters) => {
    let gathered = pending.get(pool);
    if (gathered === undefined) {
      gathered = { columns: parameters.map(() => []), waiters: [], sent: false };
      pending.set(pool, gathered);
      setImmediate(send, db, pool, gathered);
    }
    const { columns, waiters } = gathered;
    for (let k = 0; k < parameters.length; k++) (columns[k] as unknown[]).push(parameters[k]);
    const answer = new Promise<Result>((resolve, reject) => waiters.push({ resolve, reject }));
    // A full batch goes now, and the turn's later calls start the next one; its timer then
    // finds it sent.
    if (waiters.length === MAX_BATCH) send(db, pool, gathered);
    return answer;
  };
}

/** The position a batch row ends with (1-based) as an index. */
const positionOf = (values: readonly unknown[]) => (values[values.length - 1] as number) - 1;

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

  async function throughKysely(db: Db, parameters: readonly unknown[]): Promise<Row | undefined> {
    const query = CompiledQuery.raw(build(db).compile().sql, [...parameters]);
    const row = (await db.executeQuery<Record<string, unknown>>(query)).rows[0];
    // Both drivers name a row's properties in select order.
    return row === undefined ? undefined : decode(Object.values(row));
  }

  const one: RunOne<Row | undefined> = (db, pool, parameters) =>
    pool
      .query<unknown[]>({ name, text: prepared.sql(db), values: [...parameters], rowMode: 'array' })
      .then((result) => {
        const values = result.rows[0];
        return values === undefined ? undefined : decode(values);
      });
  const onPostgres =
    batch === undefined
      ? one
      : batchedOnPostgres(batch, one, (rows, count) => {
          const found = new Array<Row | undefined>(count);
          for (const values of rows) found[positionOf(values)] = decode(values);
          return found;
        });

  return ({ db }, parameters) => {
    const raw = rawConnectionFor(db);
    if (!raw) return throughKysely(db, parameters);
    if (raw.kind === 'sqlite') {
      const values = prepared.sqliteStatement(db, raw).get(...parameters) as RowValues | undefined;
      return values === undefined ? undefined : decode(values);
    }
    return onPostgres(db, raw.pool, parameters);
  };
}

/**
 * An insert, update or delete below Kysely, for writes on a hot path outside transactions
 * (inside one it runs on the transaction through Kysely, like hotQuery). `build` as for
 * hotQuery: placeholder values in the order `parameters` supplies them; `batch` as for
 * hotQuery, its rows naming the write that changed each row.
 */
export function hotStatement(
  name: string,
  build: (db: Db) => Compilable<unknown>,
  batch?: PostgresBatch,
): HotStatement {
  const prepared = preparedSql(build, false);

  async function throughKysely(db: Db, parameters: readonly unknown[]): Promise<number> {
    const result = await db.executeQuery(CompiledQuery.raw(build(db).compile().sql, [...parameters]));
    return Number(result.numAffectedRows ?? 0n);
  }

  const one: RunOne<number> = (db, pool, parameters) =>
    pool
      .query({ name, text: prepared.sql(db), values: [...parameters] })
      .then((result) => result.rowCount ?? 0);
  const onPostgres =
    batch === undefined
      ? one
      : batchedOnPostgres(batch, one, (rows, count) => {
          const changed = new Array<number>(count).fill(0);
          for (const values of rows) {
            const i = positionOf(values);
            changed[i] = (changed[i] as number) + 1;
          }
          return changed;
        });

  return ({ db }, parameters) => {
    const raw = rawConnectionFor(db);
    if (!raw) return throughKysely(db, parameters);
    if (raw.kind === 'sqlite') return prepared.sqliteStatement(db, raw).run(...parameters).changes;
    return onPostgres(db, raw.pool, parameters);
  };
}
