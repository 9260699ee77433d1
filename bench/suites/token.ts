// `npm run bench -- token`: the authorization server issuing tokens, and a user's access token
// at forward auth.
//   G-cc              POST /oauth/token client_credentials (HTTP Basic), resource
//                     <public url>/mcp → a JWT ES256 access token                      vs B-OP-JWT
//   G-refresh         POST /oauth/token refresh_token (HTTP Basic), a different unspent
//                     token on every request (rotation: each answer's token is the next) vs B-OP-refresh
//   G-check-jwt-cold  GET /v1/authz/check with a user's JWT for <public url>/v1 on a node
//                     with the caches off: verify ES256, read the user and the grant    vs B-JWT
//   G-check-jwt       the same on a node with the caches on (warm)                      vs B-GET
// B-OP (baselines/oidc-provider.ts) is oidc-provider standalone in memory, one process: JWT
// and opaque client-credentials grants and its refresh grant. B-OP-opaque is reported, no goal.
// Two Gatehouse nodes on the one database: `gatehouse` (cc, refresh, cache-warm check) and
// `gatehouse-nocache` (GATEHOUSE_CREDENTIAL_CACHE_SECONDS=0) for the cold check.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_EMAIL, startGatehouse, startHelloBaseline } from '../lib/gatehouse.ts';
import type { Measurement } from '../lib/measure.ts';
import {
  API_RESOURCE,
  basicAuth,
  CC_CLIENT_ID,
  clientCredentialsBody,
  FORM,
  MCP_RESOURCE,
  OPAQUE_RESOURCE,
  REFRESH_CLIENT_ID,
  refreshBodyPrefix,
  refreshChainScript,
  TOKEN_PATH,
  userTokenOverHttp,
} from '../lib/oauth.ts';
import { runCommand, startPinnedServer } from '../lib/processes.ts';
import { median, ratiosOf } from '../lib/report.ts';
import type { Goal, RoundFigures, Suite, Target } from '../lib/suite.ts';

const CHECK_PATH = '/v1/authz/check';
/** B-OP serves at its root: its token endpoint. */
const OP_TOKEN_PATH = '/token';
/**
 * Refresh chains on each server (lib/oauth.ts refreshChainScript): grants, each with its own
 * session and refresh token, so a grant is refreshed again only after ~10,000 other refreshes.
 * A chain ends only with a request in flight when wrk stops (about one per connection per wrk
 * run: ~300 per target over a standard run's six), so the chains, not a pool used up at the
 * measured rate, bound nothing: the run's length and rate do not depend on their number.
 */
const REFRESH_CHAINS = 10_000;
/** The scope of the user's token for forward auth. */
const USER_SCOPE = 'authz:check profile:own';

const GOAL_CC_RATIO = 0.8;
const GOAL_REFRESH_RATIO = 0.5;
const GOAL_COLD_RATIO = 0.9;
const GOAL_WARM_RATIO = 0.6;

/** Keycloak's sizing guide, per vCPU (ARM, TLS on every request): shared/BENCHMARKS.md. */
const KEYCLOAK_PER_VCPU = { cc: 120, refresh: 120 } as const;

const QUEUED = 'tokens queued';

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const x = (value: number) => `${value.toFixed(3)}×`;
const listed = (values: readonly number[]) => values.map((v) => v.toFixed(3)).join(' / ');

function queuedTokens(poolFile: string): number {
  return readFileSync(poolFile, 'utf8').split('\n').filter(Boolean).length;
}

function firstToken(poolFile: string): string {
  const token = readFileSync(`${poolFile}.first`, 'utf8').trim();
  if (!token) throw new Error(`no token in ${poolFile}.first`);
  return token;
}

async function checkStatus(url: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  return response.status;
}

export const tokenSuite: Suite = {
  name: 'token',
  description:
    'OAuth token endpoint (client credentials, refresh) against oidc-provider alone, and forward auth with a user JWT',
  async prepare({ db, runDir, log, gatehouseNodeArgs }) {
    const secrets = {
      cc: randomBytes(24).toString('base64url'),
      refresh: randomBytes(24).toString('base64url'),
    };
    const gatehousePool = join(runDir, 'gatehouse-refresh-pool.txt');
    const opPool = join(runDir, 'op-refresh-pool.txt');

    const [hello, op, gatehouse] = await Promise.all([
      startHelloBaseline(),
      startPinnedServer('B-OP', 'bench/baselines/oidc-provider.ts', {
        BENCH_OP_POOL: String(REFRESH_CHAINS + 1),
        BENCH_OP_POOL_FILE: opPool,
        BENCH_OP_ACCOUNT: 'usr_bench_op_account',
        BENCH_CC_SECRET: secrets.cc,
        BENCH_REFRESH_SECRET: secrets.refresh,
      }),
      startGatehouse(db, {
        nodeArgs: gatehouseNodeArgs,
        beforeStart: async (env) => {
          const seeded = await runCommand(process.execPath, ['--import', 'tsx', 'bench/seed-oauth.ts'], {
            env: {
              ...env,
              BENCH_SEED_POOL: String(REFRESH_CHAINS + 1),
              BENCH_SEED_POOL_FILE: gatehousePool,
              BENCH_SEED_EMAIL: BENCH_EMAIL,
              BENCH_CC_SECRET: secrets.cc,
              BENCH_REFRESH_SECRET: secrets.refresh,
            },
          });
          if (seeded.code !== 0)
            throw new Error(
              `bench/seed-oauth.ts failed (code ${seeded.code}): ${seeded.stderr || seeded.stdout}`,
            );
          log(`Gatehouse seeding (bench/seed-oauth.ts): ${seeded.stdout.trim()}`);
        },
      }),
    ]);
    const { server, admin } = gatehouse;
    log(`B-GET at ${hello.url} (pid ${hello.pid}), B-OP at ${op.url} (pid ${op.pid})`);
    log(`Gatehouse at ${server.url} (pid ${server.pid}); signed in as the bench admin through /login`);

    const [nocache, user] = await Promise.all([
      gatehouse.startNode({ name: 'gatehouse-nocache', env: { GATEHOUSE_CREDENTIAL_CACHE_SECONDS: '0' } }),
      userTokenOverHttp(server.url, admin, {
        resource: API_RESOURCE,
        scope: USER_SCOPE,
        clientName: 'bench forward auth',
      }),
    ]);
    log(
      `second node on the same database at ${nocache.url} (pid ${nocache.pid}, GATEHOUSE_CREDENTIAL_CACHE_SECONDS=0)`,
    );
    log(
      `user access token (${user.accessToken.length} bytes) for ${API_RESOURCE}, scope "${USER_SCOPE}", through POST /oauth/register (public client ${user.clientId}), /oauth/authorize, the interaction and consent pages and the code exchange`,
    );
    const bearer = { Authorization: `Bearer ${user.accessToken}` };
    for (const node of [server, nocache]) {
      const status = await checkStatus(`${node.url}${CHECK_PATH}`, bearer);
      if (status !== 200)
        throw new Error(`${node.name}: ${CHECK_PATH} with the user's token answered ${status}`);
      log(`${node.name}: ${CHECK_PATH} with the user's token answers 200`);
    }
    const jwksResponse = await fetch(`${server.url}/oauth/jwks`);
    if (jwksResponse.status !== 200) throw new Error(`GET /oauth/jwks answered ${jwksResponse.status}`);
    const jwks = await jwksResponse.text();
    const claims = JSON.parse(Buffer.from(user.accessToken.split('.')[1]!, 'base64url').toString('utf8')) as {
      iss: string;
      aud: string;
    };
    const jwt = await startPinnedServer('B-JWT', 'bench/baselines/jwt.ts', {
      BENCH_JWKS: jwks,
      BENCH_ISSUER: claims.iss,
      BENCH_AUDIENCE: claims.aud,
    });
    log(
      `B-JWT at ${jwt.url} (pid ${jwt.pid}), verifying the user's token against Gatehouse's published keys`,
    );

    const pools = { gatehouse: gatehousePool, op: opPool };
    for (const [name, pool] of Object.entries(pools))
      log(
        `${name}: ${n(queuedTokens(pool))} refresh chains queued in ${pool} (and one for the plain request)`,
      );
    const bodyPrefix = refreshBodyPrefix(MCP_RESOURCE);
    const gatehouseScript = join(runDir, 'refresh-gatehouse.lua');
    writeFileSync(gatehouseScript, refreshChainScript('G-refresh', gatehousePool, bodyPrefix));
    const opScript = join(runDir, 'refresh-op.lua');
    writeFileSync(opScript, refreshChainScript('B-OP-refresh', opPool, bodyPrefix));
    const queued = (pool: string) => async () => ({ [QUEUED]: queuedTokens(pool) });

    const cc = (secret: string) => ({ Authorization: basicAuth(CC_CLIENT_ID, secret), 'Content-Type': FORM });
    const refresh = { Authorization: basicAuth(REFRESH_CLIENT_ID, secrets.refresh), 'Content-Type': FORM };
    const targets: Target[] = [
      {
        id: 'B-GET',
        label: 'bare Fastify GET {status:ok}',
        url: `${hello.url}/`,
        headers: {},
        pid: hello.pid,
      },
      {
        id: 'B-JWT',
        label: 'bare Fastify + jose.jwtVerify (ES256, the user token)',
        url: `${jwt.url}/`,
        headers: bearer,
        pid: jwt.pid,
      },
      {
        id: 'B-OP-JWT',
        label: 'oidc-provider alone: client_credentials → JWT ES256',
        url: `${op.url}${OP_TOKEN_PATH}`,
        method: 'POST',
        headers: cc(secrets.cc),
        body: clientCredentialsBody(MCP_RESOURCE),
        pid: op.pid,
      },
      {
        id: 'B-OP-opaque',
        label: 'oidc-provider alone: client_credentials → opaque',
        url: `${op.url}${OP_TOKEN_PATH}`,
        method: 'POST',
        headers: cc(secrets.cc),
        body: clientCredentialsBody(OPAQUE_RESOURCE),
        pid: op.pid,
      },
      {
        id: 'B-OP-refresh',
        label: 'oidc-provider alone: refresh_token (rotating) → JWT ES256',
        url: `${op.url}${OP_TOKEN_PATH}`,
        method: 'POST',
        headers: refresh,
        body: `${bodyPrefix}${firstToken(opPool)}`,
        script: opScript,
        pid: op.pid,
        probe: queued(opPool),
      },
      {
        id: 'G-cc',
        label: `POST ${TOKEN_PATH} client_credentials → JWT ES256`,
        url: `${server.url}${TOKEN_PATH}`,
        method: 'POST',
        headers: cc(secrets.cc),
        body: clientCredentialsBody(MCP_RESOURCE),
        pid: server.pid,
        baseline: 'B-OP-JWT',
      },
      {
        id: 'G-refresh',
        label: `POST ${TOKEN_PATH} refresh_token (rotating) → JWT ES256`,
        url: `${server.url}${TOKEN_PATH}`,
        method: 'POST',
        headers: refresh,
        body: `${bodyPrefix}${firstToken(gatehousePool)}`,
        script: gatehouseScript,
        pid: server.pid,
        baseline: 'B-OP-refresh',
        probe: queued(gatehousePool),
      },
      {
        id: 'G-check-jwt-cold',
        label: `GET ${CHECK_PATH} (user JWT, caches off: verify + user + grant)`,
        url: `${nocache.url}${CHECK_PATH}`,
        headers: bearer,
        pid: nocache.pid,
        baseline: 'B-JWT',
      },
      {
        id: 'G-check-jwt',
        label: `GET ${CHECK_PATH} (user JWT, cache warm)`,
        url: `${server.url}${CHECK_PATH}`,
        headers: bearer,
        pid: server.pid,
        baseline: 'B-GET',
      },
    ];

    const lost = (m: Measurement | undefined) =>
      m ? -((m.counters?.warmup[QUEUED] ?? 0) + (m.counters?.measured[QUEUED] ?? 0)) : 0;
    const refreshIds = ['G-refresh', 'B-OP-refresh'] as const;

    return {
      targets,
      roundNotes(round: RoundFigures): string[] {
        return refreshIds.flatMap((id) => {
          const m = round.get(id);
          if (!m) return [];
          return [
            `${id}: ${n(m.warmup.requests + m.requests)} refreshes answered (warm-up included), ${n(m.warmup.non2xx + m.non2xx)} not 2xx; ${n(lost(m))} chains ended with a request in flight as wrk stopped`,
          ];
        });
      },
      summaryNotes(rounds: readonly RoundFigures[]): string[] {
        const notes: string[] = [];
        const perCore = (id: string, what: string, reference: number) => {
          if (!rounds.every((r) => r.has(id))) return;
          const all = rounds.map((r) => r.get(id)!);
          const rate = median(all.map((m) => m.requestsPerSecond));
          const perCpuSecond = 1e6 / median(all.map((m) => m.cpuMicrosPerRequest));
          notes.push(
            `${id} per core: ${n(rate)} ${what}/s on its one core (median), ${n(perCpuSecond)} per second of server CPU; Keycloak's sizing guide: ${reference} ${what}/s per vCPU (ARM, TLS on every request): ${(rate / reference).toFixed(1)}× that`,
          );
        };
        perCore('G-cc', 'client-credentials grants', KEYCLOAK_PER_VCPU.cc);
        perCore('G-refresh', 'refreshes', KEYCLOAK_PER_VCPU.refresh);
        return notes;
      },
      async goals(rounds: readonly RoundFigures[]): Promise<Goal[]> {
        const has = (id: string) => rounds.every((r) => r.has(id));
        const goals: Goal[] = [];
        const ratioGoal = (id: string, baseline: string, min: number) => {
          if (!has(id) || !has(baseline)) return;
          const ratios = ratiosOf(rounds, id, baseline);
          const m = median(ratios);
          goals.push({
            goal: `${id} ≥ ${min} × ${baseline} (median ratio)`,
            pass: m >= min,
            figures: `${x(m)} (${listed(ratios)}); ${rounds.map((r) => `${n(r.get(id)!.requestsPerSecond)} vs ${n(r.get(baseline)!.requestsPerSecond)}`).join(' / ')} req/s`,
          });
        };
        ratioGoal('G-cc', 'B-OP-JWT', GOAL_CC_RATIO);
        ratioGoal('G-refresh', 'B-OP-refresh', GOAL_REFRESH_RATIO);
        ratioGoal('G-check-jwt-cold', 'B-JWT', GOAL_COLD_RATIO);
        ratioGoal('G-check-jwt', 'B-GET', GOAL_WARM_RATIO);
        for (const id of refreshIds) {
          if (!has(id)) continue;
          const all = rounds.map((r) => r.get(id)!);
          const answered = all.reduce((sum, m) => sum + m.requests + m.warmup.requests, 0);
          const wrong = all.reduce((sum, m) => sum + m.non2xx + m.warmup.non2xx, 0);
          goals.push({
            goal: `${id} answers 200 to every refresh (no token presented twice)`,
            pass: wrong === 0,
            figures: `${n(wrong)} answers not 2xx of ${n(answered)} (warm-ups included); ${n(all.reduce((sum, m) => sum + lost(m), 0))} of ${n(REFRESH_CHAINS)} chains ended with a request in flight`,
          });
        }
        return goals;
      },
    };
  },
};
