// CPU accounting around each measurement, from /proc (Linux): how much CPU the server
// process used (so µs of server CPU per request, a figure that moves less than req/s on
// a shared machine), and how busy core 0 was with anything else (other processes,
// hypervisor steal; with PostgreSQL also its backends), which marks a figure as disturbed.
import { readFileSync } from 'node:fs';

export interface CpuSample {
  readonly at: bigint;
  /** utime + stime of the server process, in clock ticks. */
  readonly serverTicks: number;
  /** Busy ticks of the server core (user, nice, system, irq, softirq, steal). */
  readonly coreBusyTicks: number;
}

export interface CpuUse {
  /** Server CPU as a percentage of one core over the measurement. */
  readonly serverPercent: number;
  /** Everything else on the server core, percentage of one core. */
  readonly otherPercent: number;
  readonly serverSeconds: number;
}

/** USER_HZ: 100 on every Linux this runs on; /proc reports ticks in it. */
const TICKS_PER_SECOND = 100;

function processTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function coreBusy(core: string): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) return 0;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return user! + nice! + system! + irq! + softirq! + steal!;
}

export function sampleCpu(pid: number, core: string): CpuSample {
  return { at: process.hrtime.bigint(), serverTicks: processTicks(pid), coreBusyTicks: coreBusy(core) };
}

export function cpuBetween(before: CpuSample, after: CpuSample): CpuUse {
  const seconds = Number(after.at - before.at) / 1e9;
  const server = (after.serverTicks - before.serverTicks) / TICKS_PER_SECOND;
  const core = (after.coreBusyTicks - before.coreBusyTicks) / TICKS_PER_SECOND;
  return {
    serverPercent: (100 * server) / seconds,
    otherPercent: Math.max(0, (100 * (core - server)) / seconds),
    serverSeconds: server,
  };
}
