// B-SQL: a bare Fastify route running one indexed SELECT by primary key on the same kind
// of database Gatehouse uses, against a table of 1000 rows shaped like Gatehouse's users
// (text ids). SQLite: better-sqlite3 with Gatehouse's pragmas and one prepared statement.
// PostgreSQL: a `pg` Pool of 8 sending the same unnamed parameterized query Kysely sends.
// Each request reads the next id in turn, so the whole table is touched.
//
// BENCH_DATABASE_URL: `sqlite:PATH` (a file of its own) or `postgres://…` (the harness's
// throwaway database; the table is called bench_baseline_accounts).
import SqliteDatabase from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import { announceReady, stopWithParent } from '../lib/child-server.ts';

const ROWS = 1000;
const TABLE = 'bench_baseline_accounts';
const ids = Array.from({ length: ROWS }, (_, i) => `acc_${String(i).padStart(26, '0')}`);
const seedRows = ids.map((id, i) => ({
  id,
  email: `user${i}@example.com`,
  name: `User ${i}`,
  status: 'active',
  created_at: Date.UTC(2026, 0, 1) + i * 1000,
}));
const SELECT = `select id, email, name, status, created_at from ${TABLE} where id = $1`;

interface Lookup {
  byId(id: string): Promise<unknown> | unknown;
  close(): Promise<void>;
}

function openSqliteLookup(path: string): Lookup {
  const database = new SqliteDatabase(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.exec(
    `create table if not exists ${TABLE} (id text primary key, email text not null, name text not null, status text not null, created_at integer not null)`,
  );
  database.exec(`delete from ${TABLE}`);
  const insert = database.prepare(
    `insert into ${TABLE} (id, email, name, status, created_at) values (@id, @email, @name, @status, @created_at)`,
  );
  database.transaction(() => {
    for (const row of seedRows) insert.run(row);
  })();
  const select = database.prepare(SELECT.replace('$1', '?'));
  return {
    byId: (id) => select.get(id),
    close: async () => {
      database.close();
    },
  };
}

async function openPostgresLookup(url: string): Promise<Lookup> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  pool.on('error', () => {});
  await pool.query(
    `create table if not exists ${TABLE} (id text primary key, email text not null, name text not null, status text not null, created_at bigint not null)`,
  );
  await pool.query(`truncate ${TABLE}`);
  await pool.query(
    `insert into ${TABLE} (id, email, name, status, created_at) select * from json_populate_recordset(null::${TABLE}, $1)`,
    [JSON.stringify(seedRows)],
  );
  await pool.query(`analyze ${TABLE}`);
  return {
    byId: async (id) => (await pool.query(SELECT, [id])).rows[0],
    close: () => pool.end(),
  };
}

const url = process.env.BENCH_DATABASE_URL ?? '';
const lookup = url.startsWith('sqlite:')
  ? openSqliteLookup(url.slice('sqlite:'.length))
  : url.startsWith('postgres://') || url.startsWith('postgresql://')
    ? await openPostgresLookup(url)
    : (() => {
        throw new Error('BENCH_DATABASE_URL must be sqlite:PATH or postgres://…');
      })();

let next = 0;
const app = Fastify({ logger: false });
app.get('/', async (_request, reply) => {
  const id = ids[next++ % ROWS]!;
  const row = await lookup.byId(id);
  if (!row) return reply.status(404).send({ error: 'not_found' });
  return row;
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
stopWithParent(async () => {
  await app.close();
  await lookup.close();
});
announceReady(address);
