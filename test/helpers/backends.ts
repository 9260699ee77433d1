// Test databases. SQLite always; PostgreSQL when GATEHOUSE_TEST_DATABASE_URL is set, each
// test file getting its own database cloned from a migrated template and dropped after.
// Under CI the PostgreSQL tier is mandatory: a missing URL fails the run instead of skipping.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.ts';
import { openDb } from '../../src/db/index.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { silentLogger } from './logger.ts';

export type BackendKind = 'sqlite' | 'postgres';

export interface TestDatabase {
  readonly kind: BackendKind;
  readonly config: DatabaseConfig;
  /** A postgres:// URL or sqlite:PATH usable as GATEHOUSE_DATABASE_URL for a child process. */
  readonly url: string;
  drop(): Promise<void>;
}

const pgUrl = process.env.GATEHOUSE_TEST_DATABASE_URL;

export function backendKinds(): BackendKind[] {
  if (!pgUrl && process.env.CI === 'true') {
    throw new Error('CI requires the PostgreSQL tier: set GATEHOUSE_TEST_DATABASE_URL');
  }
  return pgUrl ? ['sqlite', 'postgres'] : ['sqlite'];
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.href;
}

// Named by the migrations' names and code, so an edited migration never reuses a template
// built by its earlier version (the server outlives test runs).
const migrationsFingerprint = Object.entries(migrations)
  .map(([name, migration]) => `${name}:${migration.up.toString()}`)
  .join('\n');
const templateName = `gatehouse_tpl_${createHash('sha256').update(migrationsFingerprint).digest('hex').slice(0, 12)}`;
const LOCK_ID = 748_201_337;

async function ensureTemplate(admin: pg.Client): Promise<void> {
  const exists = await admin.query('select 1 from pg_database where datname = $1', [templateName]);
  if (exists.rowCount) return;
  await admin.query(`create database "${templateName}"`);
  const handle = openDb(
    { kind: 'postgres', url: withDatabase(pgUrl!, templateName), poolSize: 2 },
    silentLogger,
  );
  try {
    await handle.migrateToLatest();
  } finally {
    await handle.close();
  }
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  try {
    // Files run concurrently: one at a time builds the template and clones it.
    await admin.query('select pg_advisory_lock($1)', [LOCK_ID]);
    try {
      await ensureTemplate(admin);
      await admin.query(`create database "${name}" template "${templateName}"`);
    } finally {
      await admin.query('select pg_advisory_unlock($1)', [LOCK_ID]);
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(pgUrl!, name);
  return {
    kind: 'postgres',
    config: { kind: 'postgres', url, poolSize: 5 },
    url,
    drop: async () => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

function createSqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const path = join(dir, 'gatehouse.db');
  return {
    kind: 'sqlite',
    config: { kind: 'sqlite', path },
    url: `sqlite:${path}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function createTestDatabase(kind: BackendKind): Promise<TestDatabase> {
  return kind === 'postgres' ? createPostgresDatabase() : Promise.resolve(createSqliteDatabase());
}
