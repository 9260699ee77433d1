// Gatehouse and the two shared baselines as a bench run starts them. Gatehouse is seeded
// through the operator path (`gatehouse admin create`, password on stdin) against the
// same database before the server starts, then signed in over HTTP like a browser.
import { randomBytes } from 'node:crypto';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type SignedInBrowser, signInOverHttp } from './browser.ts';
import type { BenchDatabase } from './database.ts';
import { type RunningChild, runCommand, startPinnedServer } from './processes.ts';

const BENCH_EMAIL = 'bench@example.com';
export const BENCH_ORG = 'bench';

/**
 * Request logging at info (one pino line per request, written synchronously to stdout)
 * would dominate every figure, so Gatehouse runs at warn: what an operator tuning for
 * throughput would choose. The pool matches B-SQL's 8 connections.
 */
function gatehouseEnv(db: BenchDatabase, secretKey: string): Record<string, string> {
  return {
    GATEHOUSE_DATABASE_URL: db.gatehouseUrl,
    GATEHOUSE_DATA_DIR: db.dataDir,
    GATEHOUSE_SECRET_KEY: secretKey,
    GATEHOUSE_LOG_LEVEL: 'warn',
    GATEHOUSE_DATABASE_POOL_SIZE: '8',
    GATEHOUSE_PUBLIC_URL: 'http://127.0.0.1:8080',
  };
}

export interface StartedGatehouse {
  readonly server: RunningChild;
  readonly admin: SignedInBrowser;
}

/** Seeds one org and its admin, starts the server pinned, and signs the admin in. */
export async function startGatehouse(
  db: BenchDatabase,
  nodeArgs: readonly string[] = [],
): Promise<StartedGatehouse> {
  const env = gatehouseEnv(db, generateMasterKey());
  const password = randomBytes(18).toString('base64url');
  const created = await runCommand(
    process.execPath,
    [
      'bin/gatehouse.mjs',
      'admin',
      'create',
      '--email',
      BENCH_EMAIL,
      '--org',
      BENCH_ORG,
      '--name',
      'Bench Admin',
    ],
    { env, input: `${password}\n` },
  );
  if (created.code !== 0)
    throw new Error(
      `gatehouse admin create failed (code ${created.code}): ${created.stderr || created.stdout}`,
    );
  const server = await startPinnedServer('gatehouse', 'bench/gatehouse-server.ts', env, nodeArgs);
  const admin = await signInOverHttp(server.url, BENCH_EMAIL, password);
  return { server, admin };
}

/** Adds members through POST /v1/orgs/:org/members as the signed-in admin (no passwords: no argon2). */
export async function addMembers(
  baseUrl: string,
  admin: SignedInBrowser,
  org: string,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${baseUrl}/v1/orgs/${org}/members`, {
      method: 'POST',
      headers: {
        cookie: admin.cookieHeader,
        'x-csrf-token': admin.csrfToken,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ email: `member${i}@example.com`, name: `Member ${i}`, role: 'user' }),
    });
    if (response.status !== 201)
      throw new Error(`adding member ${i} answered ${response.status}: ${await response.text()}`);
  }
}

export function startHelloBaseline(): Promise<RunningChild> {
  return startPinnedServer('B-GET', 'bench/baselines/hello.ts', {});
}

export function startSqlBaseline(db: BenchDatabase): Promise<RunningChild> {
  return startPinnedServer('B-SQL', 'bench/baselines/sql.ts', { BENCH_DATABASE_URL: db.baselineUrl });
}
