// Opens the one database: embedded SQLite (better-sqlite3, WAL) by default, PostgreSQL
// (pg pool) for production and more than one node. Both sit behind one Kysely type.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
} from 'kysely';
import pg from 'pg';
import type { Logger } from '../core/context.ts';
import type { DialectName } from './dialect.ts';
import { registerRawConnection } from './hot-query.ts';
import { migrationProvider, migrations } from './migrations/index.ts';
import {
  createLocalNotifications,
  createPostgresNotifications,
  type Notifications,
} from './notifications.ts';
import type { Database } from './schema.ts';

/** Where the database is; config.ts builds a value of this shape from GATEHOUSE_DATABASE_URL. */
export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };

/** How long a command waits for a locked SQLite file or a PostgreSQL connection. */
export const DATABASE_WAIT_MS = 5000;

export interface DbHandle {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  readonly notifications: Notifications;
  migrateToLatest(): Promise<string[]>;
  pendingMigrations(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// pg returns int8 as a string to avoid precision loss; our bigints are epoch milliseconds
// and counters, all far below 2^53, so they are read as numbers: normalized here, once.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * SQLite transactions start with BEGIN IMMEDIATE: they take the write lock up front and wait
 * (busy_timeout) for another process, such as an operator command beside the server. A
 * deferred BEGIN that reads and then writes fails at once with SQLITE_BUSY when another
 * process wrote in between, because SQLite cannot retry a lock upgrade.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

/** Distinct SQL texts kept prepared; the queries of a capability number in the tens. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every statement on every call, which measured as a
 * sixth of the CPU of an authenticated request (bench/README.md). Prepared statements are
 * reusable and SQLite re-prepares them itself after a schema change, so they are cached by
 * their SQL text, oldest dropped first.
 */
function cachePreparedStatements(database: SqliteDatabase.Database): SqliteDatabase.Database['prepare'] {
  const prepare = database.prepare.bind(database);
  const cache = new Map<string, ReturnType<typeof prepare>>();
  database.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      statement = prepare(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(source, statement);
    }
    return statement;
  }) as typeof database.prepare;
  return prepare;
}

function openSqlite(path: string): Kysely<Database> {
  // The database holds password hashes and session digests: owner-only directory.
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const isNew = path !== ':memory:' && !existsSync(path);
  const database = new SqliteDatabase(path, { timeout: DATABASE_WAIT_MS });
  // Owner-only; SQLite gives the -wal and -shm files the database file's mode.
  if (isNew) chmodSync(path, 0o600);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${DATABASE_WAIT_MS}`);
  const prepareUncached = cachePreparedStatements(database);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database }) });
  // The hot queries' statements are their own (db/hot-query.ts switches them to raw rows).
  registerRawConnection(db, { kind: 'sqlite', database, prepare: prepareUncached });
  return db;
}

function openPostgres(url: string, poolSize: number, log: Logger): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: DATABASE_WAIT_MS,
    idleTimeoutMillis: 30_000,
    types: pgTypes,
  });
  // A terminated idle connection emits 'error' on the pool; unhandled, it would end the
  // process. The pool drops that client and the next query opens a fresh one.
  pool.on('error', (error) => log.warn({ err: { message: error.message } }, 'database connection lost'));
  // While a client is checked out (a transaction, a query in flight) the pool takes its error
  // listener off, and Kysely adds none: a connection killed then would emit 'error' with no
  // listener and end the process. The query that was running, or the transaction's next one,
  // fails with the error already; the pool drops the dead client when it is released.
  pool.on('connect', (client) => {
    client.on('error', (error) =>
      log.debug({ err: { message: error.message } }, 'checked-out connection lost'),
    );
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  registerRawConnection(db, { kind: 'postgres', pool });
  return db;
}

export function openDb(config: DatabaseTarget, log: Logger): DbHandle {
  const db =
    config.kind === 'sqlite' ? openSqlite(config.path) : openPostgres(config.url, config.poolSize, log);
  const notifications =
    config.kind === 'sqlite' ? createLocalNotifications(log) : createPostgresNotifications(config.url, log);
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    migrationTableName: 'gatehouse_migrations',
  });
  return {
    db,
    dialect: config.kind,
    notifications,
    async migrateToLatest() {
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error;
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async pendingMigrations() {
      const applied = new Set(
        (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name),
      );
      return Object.keys(migrations).filter((name) => !applied.has(name));
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await notifications.close();
      await db.destroy();
    },
  };
}
