#!/usr/bin/env node
// `npm test`: runs every unit, integration, end-to-end and browser test with node:test
// through tsx. PostgreSQL: GATEHOUSE_TEST_DATABASE_URL if set; otherwise the local server
// at 127.0.0.1:5432 is used when it answers, and the run says plainly when it does not.
// Pass file paths or name fragments to run a subset: `npm test -- audit`.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/postgres';

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

async function postgresAnswers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const env = { ...process.env };
if (!env.GATEHOUSE_TEST_DATABASE_URL && env.CI !== 'true') {
  if (await postgresAnswers(DEFAULT_PG)) env.GATEHOUSE_TEST_DATABASE_URL = DEFAULT_PG;
  else process.stderr.write(`note: no PostgreSQL at ${DEFAULT_PG}; running the SQLite tier only\n`);
}

const filters = process.argv.slice(2);
const files = [...findTests(join(root, 'src')), ...findTests(join(root, 'test'))]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  process.stderr.write('no test files matched\n');
  process.exit(1);
}

const args = [
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${Math.max(2, availableParallelism())}`,
  ...files,
];
const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
