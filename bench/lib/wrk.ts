// Load from Debian's wrk, pinned to the load core: `taskset -c 1 wrk -t1 -c50 -dNs
// --latency`, and the few figures we keep from its report.
import { LOAD_CORE, runCommand } from './processes.ts';

export const WRK = '/usr/bin/wrk';

export interface LoadSettings {
  readonly connections: number;
  readonly seconds: number;
}

export interface WrkFigures {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Responses outside 2xx/3xx: any at all makes the figure suspect. */
  readonly non2xx: number;
  readonly socketErrors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: cannot read the duration "${text}"`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

function parseWrk(report: string): WrkFigures {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(report);
  const p50 = /^\s+50%\s+(\S+)/m.exec(report);
  const p99 = /^\s+99%\s+(\S+)/m.exec(report);
  const total = /^\s+(\d+) requests in/m.exec(report);
  if (!rps || !p50 || !p99 || !total) throw new Error(`wrk: unexpected report:\n${report}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(report);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: durationMs(p50[1]!),
    p99Ms: durationMs(p99[1]!),
    requests: Number(total[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

export async function runWrk(
  url: string,
  headers: Readonly<Record<string, string>>,
  load: LoadSettings,
): Promise<WrkFigures> {
  const args = ['-c', LOAD_CORE, WRK, '-t1', `-c${load.connections}`, `-d${load.seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);
  const result = await runCommand('taskset', args);
  if (result.code !== 0)
    throw new Error(`wrk failed (code ${result.code}): ${result.stderr || result.stdout}`);
  return parseWrk(result.stdout);
}
