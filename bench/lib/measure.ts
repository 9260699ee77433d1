// One measurement of one target: a discarded wrk warm-up, then the measured wrk run with
// the server's CPU sampled either side and the target's counters (if it has a probe) read
// around each of the two.
import { type CpuUse, cpuBetween, sampleCpu } from './cpu.ts';
import { SERVER_CORE } from './processes.ts';
import type { Counters, Target } from './suite.ts';
import { type LoadSettings, runWrk, type WrkFigures, type WrkScript } from './wrk.ts';

export interface Measurement extends WrkFigures, CpuUse {
  /** Server CPU per request, µs: lower is better, and steadier than req/s on a busy host. */
  readonly cpuMicrosPerRequest: number;
  /** The warm-up's figures: not reported, but its answers are checked like the measured ones. */
  readonly warmup: WrkFigures;
  /** How the probe's counters moved during the warm-up and during the measured run. */
  readonly counters?: { readonly warmup: Counters; readonly measured: Counters };
}

function difference(before: Counters, after: Counters): Counters {
  return Object.fromEntries(
    Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? 0)]),
  );
}

export async function measure(
  target: Target,
  load: { connections: number; warmupSeconds: number; seconds: number; script?: WrkScript },
): Promise<Measurement> {
  const settings = (seconds: number): LoadSettings => ({
    connections: load.connections,
    seconds,
    ...(load.script && { script: load.script }),
  });
  const atStart = await target.probe?.();
  const warmup = await runWrk(target.url, target.headers, settings(load.warmupSeconds));
  const afterWarmup = await target.probe?.();
  const before = sampleCpu(target.pid, SERVER_CORE);
  const figures = await runWrk(target.url, target.headers, settings(load.seconds));
  const cpu = cpuBetween(before, sampleCpu(target.pid, SERVER_CORE));
  const atEnd = await target.probe?.();
  const counters =
    atStart && afterWarmup && atEnd
      ? { warmup: difference(atStart, afterWarmup), measured: difference(afterWarmup, atEnd) }
      : undefined;
  return {
    ...figures,
    ...cpu,
    cpuMicrosPerRequest: (cpu.serverSeconds * 1e6) / figures.requests,
    warmup,
    ...(counters && { counters }),
  };
}
