// Gatehouse and the two shared baselines as a bench run starts them. Gatehouse is seeded
// through the operator path (`gatehouse admin create`, password on stdin) against the
// same database before the server starts, then signed in over HTTP like a browser. More
// nodes of the same deployment (same database and secret key, other settings) can be
// started beside the first without seeding again.
import { randomBytes } from 'node:crypto';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type SignedInBrowser, signInOverHttp } from './browser.ts';
import type { BenchDatabase } from './database.ts';
import { BENCH_PUBLIC_URL } from './oauth.ts';
import { type RunningChild, runCommand, startPinnedServer } from './processes.ts';
import type { Target } from './suite.ts';

export const BENCH_EMAIL = 'bench@example.com';
export const BENCH_ORG = 'bench';

/**
 * Request logging at info (one pino line per request, written synchronously to stdout)
 * would dominate every figure, so Gatehouse runs at warn: what an operator tuning for
 * throughput would choose. The pool matches B-SQL's 8 connections.
 */
export function gatehouseEnv(
  db: BenchDatabase,
  secretKey: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    GATEHOUSE_DATABASE_URL: db.gatehouseUrl,
    GATEHOUSE_DATA_DIR: db.dataDir,
    GATEHOUSE_SECRET_KEY: secretKey,
    GATEHOUSE_LOG_LEVEL: 'warn',
    GATEHOUSE_DATABASE_POOL_SIZE: '8',
    GATEHOUSE_PUBLIC_URL: BENCH_PUBLIC_URL,
    ...extra,
  };
}

export interface GatehouseOptions {
  /** Extra node flags (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** GATEHOUSE_* variables on top of gatehouseEnv's, e.g. GATEHOUSE_TRUST_PROXY. */
  readonly env?: Readonly<Record<string, string>>;
  /** The name its stderr lines are shown under; `gatehouse` unless given. */
  readonly name?: string;
}

export interface StartedGatehouse {
  readonly server: RunningChild;
  readonly admin: SignedInBrowser;
  /**
   * Starts another node of the same deployment: same database and secret key, no seeding
   * (the org and admin exist already), its own options.
   */
  startNode(options: GatehouseOptions & { readonly name: string }): Promise<RunningChild>;
}

function startNode(db: BenchDatabase, secretKey: string, options: GatehouseOptions): Promise<RunningChild> {
  return startPinnedServer(
    options.name ?? 'gatehouse',
    'bench/gatehouse-server.ts',
    gatehouseEnv(db, secretKey, options.env),
    options.nodeArgs,
  );
}

export interface StartGatehouseOptions extends GatehouseOptions {
  /**
   * More seeding after the org and its admin exist and before the server starts, given the
   * server's environment (GATEHOUSE_*), e.g. a script run against the same database.
   */
  readonly beforeStart?: (env: Readonly<Record<string, string>>) => Promise<void>;
}

/** Seeds one org and its admin, starts the server pinned, and signs the admin in. */
export async function startGatehouse(
  db: BenchDatabase,
  options: StartGatehouseOptions = {},
): Promise<StartedGatehouse> {
  const secretKey = generateMasterKey();
  const env = gatehouseEnv(db, secretKey);
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
  await options.beforeStart?.(env);
  const server = await startNode(db, secretKey, options);
  const admin = await signInOverHttp(server.url, BENCH_EMAIL, password);
  return {
    server,
    admin,
    startNode: (more) => startNode(db, secretKey, { nodeArgs: options.nodeArgs, ...more }),
  };
}

/** Creates an API key for the signed-in admin (POST /v1/orgs/:org/api-keys); returns its token. */
export async function createApiKey(
  baseUrl: string,
  admin: SignedInBrowser,
  org: string,
  name: string,
): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/orgs/${org}/api-keys`, {
    method: 'POST',
    headers: {
      cookie: admin.cookieHeader,
      'x-csrf-token': admin.csrfToken,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ name }),
  });
  const body = await response.text();
  if (response.status !== 201)
    throw new Error(`creating API key "${name}" answered ${response.status}: ${body}`);
  const { token } = JSON.parse(body) as { token?: string };
  if (!token) throw new Error(`creating API key "${name}" gave no token`);
  return token;
}

/**
 * The current value of each named counter on Gatehouse's /metrics (Prometheus text format,
 * unlabelled counters); a counter that is not there is an error, not a zero.
 */
export async function readCounters<Name extends string>(
  baseUrl: string,
  names: readonly Name[],
): Promise<Record<Name, number>> {
  const response = await fetch(`${baseUrl}/metrics`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  const values = {} as Record<Name, number>;
  for (const name of names) {
    const match = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
    if (!match) throw new Error(`GET ${baseUrl}/metrics has no counter ${name}`);
    values[name] = Number(match[1]);
  }
  return values;
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

/** The two shared baselines as targets: B-GET (hello world) and B-SQL (one indexed SELECT). */
export function baselineTargets(hello: RunningChild, sqlBase: RunningChild): Target[] {
  return [
    { id: 'B-GET', label: 'bare Fastify GET {status:ok}', url: `${hello.url}/`, headers: {}, pid: hello.pid },
    {
      id: 'B-SQL',
      label: 'bare Fastify + 1 SELECT by PK',
      url: `${sqlBase.url}/`,
      headers: {},
      pid: sqlBase.pid,
    },
  ];
}

export function startHelloBaseline(): Promise<RunningChild> {
  return startPinnedServer('B-GET', 'bench/baselines/hello.ts', {});
}

export function startSqlBaseline(db: BenchDatabase): Promise<RunningChild> {
  return startPinnedServer('B-SQL', 'bench/baselines/sql.ts', { BENCH_DATABASE_URL: db.baselineUrl });
}
