// The databases of one bench run, made fresh and removed at the end. SQLite: a temporary
// directory holding Gatehouse's file and the baseline's own file. PostgreSQL: a throwaway
// database `gatehouse_bench_<random>` on the loopback server, shared by Gatehouse and the
// B-SQL baseline (its table is bench_baseline_accounts), dropped WITH (FORCE) at the end.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

export type DbKind = 'sqlite' | 'postgres';

export interface BenchDatabase {
  readonly kind: DbKind;
  /** GATEHOUSE_DATA_DIR for Gatehouse and the operator command. */
  readonly dataDir: string;
  /** GATEHOUSE_DATABASE_URL. */
  readonly gatehouseUrl: string;
  /** BENCH_DATABASE_URL of the B-SQL baseline. */
  readonly baselineUrl: string;
  /** e.g. "SQLite 3.53.2 (better-sqlite3)" or "PostgreSQL 15.20". */
  readonly version: string;
  /** Where it lives, for the log; never a password. */
  readonly where: string;
  drop(): Promise<void>;
}

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function sqliteVersion(): string {
  const database = new SqliteDatabase(':memory:');
  try {
    return (database.prepare('select sqlite_version() as v').get() as { v: string }).v;
  } finally {
    database.close();
  }
}

function createSqlite(): BenchDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  return {
    kind: 'sqlite',
    dataDir: dir,
    gatehouseUrl: `sqlite:${join(dir, 'gatehouse.db')}`,
    baselineUrl: `sqlite:${join(dir, 'baseline.db')}`,
    version: `SQLite ${sqliteVersion()} (better-sqlite3)`,
    where: dir,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.href;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres): a loopback server only. */
async function createPostgres(): Promise<BenchDatabase> {
  const adminUrl = process.env.BENCH_POSTGRES_URL || DEFAULT_POSTGRES_URL;
  const host = new URL(adminUrl).hostname;
  if (!LOOPBACK.has(host)) throw new Error(`BENCH_POSTGRES_URL must point at loopback, not ${host}`);
  const name = `gatehouse_bench_${randomBytes(6).toString('hex')}`;
  const version = await withClient(adminUrl, async (client) => {
    await client.query(`create database "${name}"`);
    return (await client.query('show server_version')).rows[0].server_version as string;
  });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const url = withDatabase(adminUrl, name);
  return {
    kind: 'postgres',
    dataDir: dir,
    gatehouseUrl: url,
    baselineUrl: url,
    version: `PostgreSQL ${version.split(' ')[0]}`,
    where: `${host}/${name}`,
    drop: async () => {
      rmSync(dir, { recursive: true, force: true });
      await withClient(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

export function createBenchDatabase(kind: DbKind): Promise<BenchDatabase> {
  return kind === 'postgres' ? createPostgres() : Promise.resolve(createSqlite());
}
