// Load from Debian's wrk, pinned to the load core: `taskset -c 1 wrk -t1 -c50 -dNs
// --latency [-s SCRIPT]`, and the few figures we keep from its report. A target with an
// expected status gets a Lua script that counts every answer's status (wrk itself only
// counts answers outside 2xx/3xx), appended to the target's own script if it has one.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOAD_CORE, runCommand } from './processes.ts';
import type { Target } from './suite.ts';

export const WRK = '/usr/bin/wrk';

export interface LoadSettings {
  readonly connections: number;
  readonly seconds: number;
  readonly script?: WrkScript;
}

/** The Lua script wrk runs for a target, from wrkScriptFor. */
export interface WrkScript {
  readonly path: string;
  /** Whether it prints the count of each status (the harness's counter is in it). */
  readonly countsStatuses: boolean;
}

export interface WrkFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Responses outside 2xx/3xx: any at all makes the figure suspect (unless expected). */
  readonly non2xx: number;
  readonly socketErrors: number;
  /** Answers by status, when the script counted them (targets with an expected status). */
  readonly statuses?: ReadonlyMap<number, number>;
}

const STATUS_LINE = 'BENCH_STATUS';

// Runs in wrk's Lua states: `response` in each thread's (counting into a global, since
// thread:get reads globals), `setup` and `done` in the main one, which sums the threads'
// tables and prints one line per status after wrk's report.
const STATUS_COUNTER_LUA = `
-- bench/lib/wrk.ts: count the status of every answer
local bench_threads = {}
function setup(thread) table.insert(bench_threads, thread) end
bench_statuses = {}
function response(status, headers, body)
  bench_statuses[status] = (bench_statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(bench_threads) do
    for status, count in pairs(thread:get("bench_statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("${STATUS_LINE} %d %d\\n", status, count))
  end
end
`;

/** Sets the method and body of wrk's one static request (a target without a script of its own). */
function staticRequestLua(target: Target): string {
  if (target.method === undefined && target.body === undefined) return '';
  const lines = [`-- bench/lib/wrk.ts: ${target.id}'s request`];
  if (target.method) lines.push(`wrk.method = ${JSON.stringify(target.method)}`);
  if (target.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(target.body)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The script wrk runs for a target, or none: its own, or one written into dir with its
 * method and body (when it has no script) and the status counter (when it expects a status).
 */
export function wrkScriptFor(target: Target, dir: string): WrkScript | undefined {
  const own = target.script ? readFileSync(target.script, 'utf8') : staticRequestLua(target);
  if (target.expectedStatus === undefined && target.script !== undefined)
    return { path: target.script, countsStatuses: false };
  if (target.expectedStatus === undefined && own === '') return undefined;
  const counter = target.expectedStatus === undefined ? '' : `\n${STATUS_COUNTER_LUA}`;
  const path = join(dir, `wrk-${target.id.replace(/[^A-Za-z0-9-]/g, '_')}.lua`);
  writeFileSync(path, `${own}${counter}`);
  return { path, countsStatuses: counter !== '' };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: cannot read the duration "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

function parseStatuses(report: string): Map<number, number> | undefined {
  const lines = [...report.matchAll(new RegExp(`^${STATUS_LINE} (\\d+) (\\d+)$`, 'gm'))];
  if (lines.length === 0) return undefined;
  return new Map(lines.map((m) => [Number(m[1]), Number(m[2])]));
}

function parseWrk(report: string, counted: boolean): WrkFigures {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(report);
  const p50 = /^\s+50%\s+(\S+)/m.exec(report);
  const p99 = /^\s+99%\s+(\S+)/m.exec(report);
  const total = /^\s+(\d+) requests in/m.exec(report);
  if (!rps || !p50 || !p99 || !total) throw new Error(`wrk: unexpected report:\n${report}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(report);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  const requests = Number(total[1]);
  // No answer at all gives no status line: an empty count, not a missing one.
  const statuses = counted ? (parseStatuses(report) ?? new Map<number, number>()) : undefined;
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: durationMs(p50[1]!),
    p99Ms: durationMs(p99[1]!),
    requests,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
    ...(statuses && { statuses }),
  };
}

export async function runWrk(
  url: string,
  headers: Readonly<Record<string, string>>,
  load: LoadSettings,
): Promise<WrkFigures> {
  const args = ['-c', LOAD_CORE, WRK, '-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--latency'];
  if (load.script) args.push('-s', load.script.path);
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);
  const result = await runCommand('taskset', args);
  if (result.code !== 0)
    throw new Error(`wrk failed (code ${result.code}): ${result.stderr || result.stdout}`);
  return parseWrk(result.stdout, load.script?.countsStatuses ?? false);
}
