// One measurement of one target: a discarded wrk warm-up, then the measured wrk run with
// the server's CPU sampled either side.
import { type CpuUse, cpuBetween, sampleCpu } from './cpu.ts';
import { SERVER_CORE } from './processes.ts';
import type { Target } from './suite.ts';
import { type LoadSettings, runWrk, type WrkFigures } from './wrk.ts';

export interface Measurement extends WrkFigures, CpuUse {
  /** Server CPU per request, µs: lower is better, and steadier than req/s on a busy host. */
  readonly cpuMicrosPerRequest: number;
}

export async function measure(
  target: Target,
  load: { connections: number; warmupSeconds: number; seconds: number },
): Promise<Measurement> {
  const settings = (seconds: number): LoadSettings => ({ connections: load.connections, seconds });
  await runWrk(target.url, target.headers, settings(load.warmupSeconds));
  const before = sampleCpu(target.pid, SERVER_CORE);
  const figures = await runWrk(target.url, target.headers, settings(load.seconds));
  const cpu = cpuBetween(before, sampleCpu(target.pid, SERVER_CORE));
  return { ...figures, ...cpu, cpuMicrosPerRequest: (cpu.serverSeconds * 1e6) / figures.requests };
}
