// `npm run bench -- authz-check`: forward auth (GET /v1/authz/check), what a reverse proxy
// pays Gatehouse per request it lets through or turns away.
//   G-check-key      a valid API key, verified-key cache warm                    vs B-GET
//   G-check-session  the admin's session cookie                                  vs B-GET
//   G-check-miss     a valid API key on a node with the caches off
//                    (GATEHOUSE_CREDENTIAL_CACHE_SECONDS=0): one store lookup    vs B-SQL
//   G-check-flood    10,000 well-formed unknown keys in turn, each request from
//                    another of 65,536 addresses (X-Forwarded-For): all 401,
//                    each key looked up once, then refused from the negative cache vs B-GET
// Two Gatehouse nodes on the one database: `gatehouse` (GATEHOUSE_TRUST_PROXY=127.0.0.1, so
// the flood's addresses are believed and the per-address failure limit does not answer
// 429) for key, session and flood, and `gatehouse-nocache` for the miss.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueToken } from '../../src/core/secrets.ts';
import {
  BENCH_ORG,
  baselineTargets,
  createApiKey,
  readCounters,
  startGatehouse,
  startHelloBaseline,
  startSqlBaseline,
} from '../lib/gatehouse.ts';
import type { Measurement } from '../lib/measure.ts';
import type { RunningChild } from '../lib/processes.ts';
import { median, p99RatiosOf, ratiosOf } from '../lib/report.ts';
import type { Goal, RoundFigures, Suite, Target } from '../lib/suite.ts';

const CHECK_PATH = '/v1/authz/check';
/** Distinct unknown keys in the flood. */
const FLOOD_KEYS = 10_000;
/** Distinct client addresses the flood comes from (10.0.0.1 … 10.255.255.1). */
const FLOOD_ADDRESSES = 65_536;
/** Requests sent to the cache-off node to see that each costs exactly one store lookup. */
const MISS_PROBE_REQUESTS = 20;
/** How long `gatehouse` remembers a refused key: max(cache seconds, 300) (src/config.ts). */
const NEGATIVE_CACHE_SECONDS = 300;

const GOAL_KEY_RATIO = 0.65;
const GOAL_KEY_P99_RATIO = 2;
const GOAL_MISS_RATIO = 0.8;
const GOAL_FLOOD_RATIO = 0.5;

const LOOKUPS = 'gatehouse_api_key_store_lookups_total';
const CACHE_HITS = 'gatehouse_api_key_cache_hits_total';
const NEGATIVE_HITS = 'gatehouse_api_key_negative_cache_hits_total';
const COUNTERS = [LOOKUPS, CACHE_HITS, NEGATIVE_HITS] as const;

const counters = (server: RunningChild) => () => readCounters(server.url, COUNTERS);

async function check(server: RunningChild, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${server.url}${CHECK_PATH}`, { headers });
  await response.arrayBuffer();
  return response.status;
}

/** Sends `count` checks and returns how the counters moved; every answer must be `status`. */
async function countersAcross(
  server: RunningChild,
  count: number,
  headers: (i: number) => Record<string, string>,
  status: number,
): Promise<Record<(typeof COUNTERS)[number], number>> {
  const before = await counters(server)();
  for (let i = 0; i < count; i++) {
    const got = await check(server, headers(i));
    if (got !== status) throw new Error(`${server.name} ${CHECK_PATH} answered ${got}, not ${status}`);
  }
  const after = await counters(server)();
  return {
    [LOOKUPS]: after[LOOKUPS] - before[LOOKUPS],
    [CACHE_HITS]: after[CACHE_HITS] - before[CACHE_HITS],
    [NEGATIVE_HITS]: after[NEGATIVE_HITS] - before[NEGATIVE_HITS],
  };
}

/** 10.(i >> 8).(i & 255).1: every flood request names another client address. */
function floodAddress(i: number): string {
  const n = i % FLOOD_ADDRESSES;
  return `10.${n >> 8}.${n & 255}.1`;
}

/**
 * Every request wrk sends is prebuilt: request j carries key j mod 10,000 and address j, so
 * one pass through the 65,536 requests presents every key 6 or 7 times, each time from
 * another address. Building each request by concatenation in `request()` instead cost wrk a
 * quarter to a third of its rate here, which could make the load generator, not Gatehouse,
 * the limit.
 */
function floodScript(host: string, keys: readonly string[]): string {
  return `-- G-check-flood (bench/suites/authz-check.ts): ${keys.length} well-formed unknown API keys in turn,
-- X-Forwarded-For from ${FLOOD_ADDRESSES} addresses in turn.
local keys = {
${keys.map((k) => `  "${k}",`).join('\n')}
}
local requests = {}
for i = 0, ${FLOOD_ADDRESSES - 1} do
  requests[i + 1] = "GET ${CHECK_PATH} HTTP/1.1\\r\\nHost: ${host}\\r\\nAuthorization: Bearer " .. keys[i % #keys + 1]
    .. "\\r\\nX-Forwarded-For: 10." .. math.floor(i / 256) .. "." .. (i % 256) .. ".1\\r\\n\\r\\n"
end
local count = #requests
local sent = 0
function request()
  local prebuilt = requests[sent % count + 1]
  sent = sent + 1
  return prebuilt
end
`;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const n = (value: number) => value.toLocaleString('en-US');
const x = (value: number) => `${value.toFixed(3)}×`;
const listed = (values: readonly number[]) => values.map((v) => v.toFixed(3)).join(' / ');

function statusCount(m: Measurement, status: number): number {
  return (m.statuses?.get(status) ?? 0) + (m.warmup.statuses?.get(status) ?? 0);
}

function statusText(m: Measurement): string {
  return [...(m.statuses ?? new Map<number, number>())]
    .map(([status, count]) => `${n(count)}× ${status}`)
    .join(', ');
}

export const authzCheckSuite: Suite = {
  name: 'authz-check',
  description: 'forward auth GET /v1/authz/check: API key, session, cache miss, unknown-key flood',
  async prepare({ db, runDir, log, gatehouseNodeArgs }) {
    const [hello, sqlBase] = await Promise.all([startHelloBaseline(), startSqlBaseline(db)]);
    log(`B-GET at ${hello.url} (pid ${hello.pid}), B-SQL at ${sqlBase.url} (pid ${sqlBase.pid})`);
    const gatehouse = await startGatehouse(db, {
      nodeArgs: gatehouseNodeArgs,
      env: { GATEHOUSE_TRUST_PROXY: '127.0.0.1' },
    });
    const { server, admin } = gatehouse;
    log(
      `Gatehouse at ${server.url} (pid ${server.pid}, GATEHOUSE_TRUST_PROXY=127.0.0.1); signed in as the bench admin through /login`,
    );
    const [token, nocache] = await Promise.all([
      createApiKey(server.url, admin, BENCH_ORG, 'bench forward auth'),
      gatehouse.startNode({ name: 'gatehouse-nocache', env: { GATEHOUSE_CREDENTIAL_CACHE_SECONDS: '0' } }),
    ]);
    log(
      `second node on the same database at ${nocache.url} (pid ${nocache.pid}, GATEHOUSE_CREDENTIAL_CACHE_SECONDS=0)`,
    );
    log(`API key ${token.slice(0, 15)}… created through POST /v1/orgs/${BENCH_ORG}/api-keys`);
    const bearer = { Authorization: `Bearer ${token}` };

    // The key cache on `gatehouse` is warm after the first check; every later one is a hit.
    const warm = await countersAcross(server, MISS_PROBE_REQUESTS, () => bearer, 200);
    log(
      `gatehouse: ${MISS_PROBE_REQUESTS} checks with the key → ${warm[LOOKUPS]} store lookup(s), ${warm[CACHE_HITS]} cache hits`,
    );
    if (warm[LOOKUPS] > 1)
      throw new Error('gatehouse looked the key up more than once: the key cache is not used');

    // On `gatehouse-nocache` every check must cost exactly one store lookup.
    const miss = await countersAcross(nocache, MISS_PROBE_REQUESTS, () => bearer, 200);
    log(
      `gatehouse-nocache: ${MISS_PROBE_REQUESTS} checks with the key → ${miss[LOOKUPS]} store lookups (${miss[LOOKUPS] === MISS_PROBE_REQUESTS ? 'exactly one per request' : 'NOT one per request'}), ${miss[CACHE_HITS]} cache hits`,
    );
    if (miss[LOOKUPS] !== MISS_PROBE_REQUESTS || miss[CACHE_HITS] !== 0)
      throw new Error(
        `gatehouse-nocache: ${MISS_PROBE_REQUESTS} checks gave ${miss[LOOKUPS]} store lookups and ${miss[CACHE_HITS]} cache hits, not ${MISS_PROBE_REQUESTS} and 0`,
      );

    // One unknown key (not one of the flood's) twice, from an address of its own: looked up
    // once, then refused from the negative cache.
    const stranger = issueToken('gk_').token;
    const refused = await countersAcross(
      server,
      2,
      () => ({ Authorization: `Bearer ${stranger}`, 'X-Forwarded-For': '192.0.2.1' }),
      401,
    );
    log(
      `gatehouse: one unknown key twice → ${refused[LOOKUPS]} store lookup(s), ${refused[NEGATIVE_HITS]} negative-cache hit(s)`,
    );
    if (refused[LOOKUPS] !== 1 || refused[NEGATIVE_HITS] !== 1)
      throw new Error('gatehouse: an unknown key presented twice was not looked up exactly once');

    const floodKeys = Array.from({ length: FLOOD_KEYS }, () => issueToken('gk_').token);
    const script = join(runDir, 'flood.lua');
    writeFileSync(script, floodScript(new URL(server.url).host, floodKeys));
    log(`${n(FLOOD_KEYS)} unknown keys (issueToken('gk_')) and ${n(FLOOD_ADDRESSES)} addresses in ${script}`);

    const atStart = await counters(server)();
    const startedAt = Date.now();

    const targets: Target[] = [
      ...baselineTargets(hello, sqlBase),
      {
        id: 'G-check-key',
        label: `GET ${CHECK_PATH} (API key, cache warm)`,
        url: `${server.url}${CHECK_PATH}`,
        headers: bearer,
        pid: server.pid,
        baseline: 'B-GET',
        probe: counters(server),
      },
      {
        id: 'G-check-session',
        label: `GET ${CHECK_PATH} (session cookie)`,
        url: `${server.url}${CHECK_PATH}`,
        headers: { Cookie: admin.cookieHeader },
        pid: server.pid,
        baseline: 'B-GET',
      },
      {
        id: 'G-check-miss',
        label: `GET ${CHECK_PATH} (API key, caches off: 1 lookup)`,
        url: `${nocache.url}${CHECK_PATH}`,
        headers: bearer,
        pid: nocache.pid,
        baseline: 'B-SQL',
        probe: counters(nocache),
      },
      {
        id: 'G-check-flood',
        label: `GET ${CHECK_PATH} (${n(FLOOD_KEYS)} unknown keys, ${n(FLOOD_ADDRESSES)} addresses) → 401`,
        url: `${server.url}${CHECK_PATH}`,
        // The plain request before load; under load the script builds every request.
        headers: { Authorization: `Bearer ${floodKeys[0]}`, 'X-Forwarded-For': floodAddress(0) },
        pid: server.pid,
        baseline: 'B-GET',
        expectedStatus: 401,
        script,
        probe: counters(server),
      },
    ];

    const moved = (m: Measurement | undefined, name: string, phase: 'warmup' | 'measured' = 'measured') =>
      m?.counters?.[phase][name] ?? 0;

    return {
      targets,
      roundNotes(round: RoundFigures): string[] {
        const notes: string[] = [];
        const key = round.get('G-check-key');
        if (key)
          notes.push(
            `G-check-key: ${n(moved(key, LOOKUPS))} store lookups, ${n(moved(key, CACHE_HITS))} cache hits over ${n(key.requests)} requests`,
          );
        const missed = round.get('G-check-miss');
        if (missed)
          notes.push(
            `G-check-miss: ${n(moved(missed, LOOKUPS))} store lookups over ${n(missed.requests)} requests (${(moved(missed, LOOKUPS) / missed.requests).toFixed(3)} per request)`,
          );
        const flood = round.get('G-check-flood');
        if (flood)
          notes.push(
            `G-check-flood: store lookups caused: ${n(moved(flood, LOOKUPS))} for ${n(FLOOD_KEYS)} distinct keys over ${n(flood.requests)} requests (${n(moved(flood, NEGATIVE_HITS))} negative-cache hits; warm-up before it: ${n(moved(flood, LOOKUPS, 'warmup'))} lookups over ${n(flood.warmup.requests)} requests); answers: ${statusText(flood)}; 429s: ${n(statusCount(flood, 429))}`,
          );
        return notes;
      },
      async goals(rounds: readonly RoundFigures[]): Promise<Goal[]> {
        const has = (id: string) => rounds.every((r) => r.has(id));
        const goals: Goal[] = [];
        const ratioGoal = (id: string, baseline: string, min: number) => {
          const ratios = ratiosOf(rounds, id, baseline);
          const m = median(ratios);
          goals.push({
            goal: `${id} ≥ ${min} × ${baseline} (median ratio)`,
            pass: m >= min,
            figures: `${x(m)} (${listed(ratios)})`,
          });
        };
        if (has('G-check-key') && has('B-GET')) {
          ratioGoal('G-check-key', 'B-GET', GOAL_KEY_RATIO);
          const p99s = p99RatiosOf(rounds, 'G-check-key', 'B-GET');
          const m = median(p99s);
          goals.push({
            goal: `G-check-key p99 ≤ ${GOAL_KEY_P99_RATIO} × B-GET's p99 (median p99 ratio)`,
            pass: m <= GOAL_KEY_P99_RATIO,
            figures: `${x(m)} (${listed(p99s)}); p99 ${rounds.map((r) => `${r.get('G-check-key')!.p99Ms} vs ${r.get('B-GET')!.p99Ms}`).join(' / ')} ms`,
          });
        }
        if (has('G-check-miss') && has('B-SQL')) ratioGoal('G-check-miss', 'B-SQL', GOAL_MISS_RATIO);
        if (has('G-check-flood')) {
          if (has('B-GET')) ratioGoal('G-check-flood', 'B-GET', GOAL_FLOOD_RATIO);
          // Every store lookup `gatehouse` made since the flood's keys existed, less those made
          // while G-check-key ran (the valid key, should its cache entry have expired).
          const total = (await counters(server)())[LOOKUPS] - atStart[LOOKUPS];
          const duringKey = sum(
            rounds.map(
              (r) => moved(r.get('G-check-key'), LOOKUPS, 'warmup') + moved(r.get('G-check-key'), LOOKUPS),
            ),
          );
          const lookups = total - duringKey;
          const requests = sum(
            rounds.map((r) => r.get('G-check-flood')!.requests + r.get('G-check-flood')!.warmup.requests),
          );
          // A key refused at t is looked up again no earlier than t + the lifetime.
          const seconds = Math.round((Date.now() - startedAt) / 1000);
          const allowed = FLOOD_KEYS * Math.max(1, Math.ceil(seconds / NEGATIVE_CACHE_SECONDS));
          goals.push({
            goal: `G-check-flood store lookups ≤ ${n(allowed)} (one per distinct key per negative-cache lifetime of ${NEGATIVE_CACHE_SECONDS} s; the load took ${seconds} s)`,
            pass: lookups <= allowed,
            figures: `${n(lookups)} store lookups for ${n(FLOOD_KEYS)} distinct keys over ${n(requests)} flood requests (warm-ups included; ${n(total)} on the node in all, ${n(duringKey)} of them during G-check-key)`,
          });
          const tooMany = sum(rounds.map((r) => statusCount(r.get('G-check-flood')!, 429)));
          const answers = sum(
            rounds.map((r) => r.get('G-check-flood')!.requests + r.get('G-check-flood')!.warmup.requests),
          );
          const not401 = answers - sum(rounds.map((r) => statusCount(r.get('G-check-flood')!, 401)));
          goals.push({
            goal: 'G-check-flood answers 401 to every request (no 429 from the failure limit)',
            pass: tooMany === 0 && not401 === 0,
            figures: `${n(tooMany)} × 429, ${n(not401)} answers other than 401, of ${n(answers)} (warm-ups included)`,
          });
        }
        return goals;
      },
    };
  },
};
