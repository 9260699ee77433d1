// Tables of a bench run: per round (req/s, p99, server CPU, ratio to the paired baseline),
// then the medians the goals are judged on, then the same as Markdown for bench/README.md.
//   ratio      = target req/s ÷ baseline req/s, same round (the figure goals are judged on)
//   CPU ratio  = baseline µs CPU/request ÷ target µs CPU/request, same round (steadier when
//                the host is busy; equal to the ratio when both servers saturate core 0)
import type { Measurement } from './measure.ts';
import type { Target } from './suite.ts';

export type RoundFigures = ReadonlyMap<string, Measurement>;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function pair(target: Target, round: RoundFigures): [Measurement, Measurement] | undefined {
  const own = round.get(target.id);
  const base = target.baseline ? round.get(target.baseline) : undefined;
  return own && base ? [own, base] : undefined;
}

function ratioOf(target: Target, round: RoundFigures): number | undefined {
  const p = pair(target, round);
  return p && p[0].requestsPerSecond / p[1].requestsPerSecond;
}

function cpuRatioOf(target: Target, round: RoundFigures): number | undefined {
  const p = pair(target, round);
  return p && p[1].cpuMicrosPerRequest / p[0].cpuMicrosPerRequest;
}

const rps = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pct = (n: number) => `${Math.round(n)}%`;
const us = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const x = (n: number | undefined) => (n === undefined ? '' : `${n.toFixed(3)}×`);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function flags(m: Measurement): string {
  const notes: string[] = [];
  if (m.non2xx > 0) notes.push(`${m.non2xx} NON-2xx`);
  if (m.socketErrors > 0) notes.push(`${m.socketErrors} socket errors`);
  return notes.join(', ');
}

export function formatRound(index: number, targets: readonly Target[], round: RoundFigures): string {
  const rows = targets.map((t) => {
    const m = round.get(t.id)!;
    return [
      t.id,
      t.baseline ?? '',
      rps(m.requestsPerSecond),
      ms(m.p99Ms),
      pct(m.serverPercent),
      pct(m.otherPercent),
      us(m.cpuMicrosPerRequest),
      x(ratioOf(t, round)),
      x(cpuRatioOf(t, round)),
      flags(m),
    ];
  });
  const header = [
    'target',
    'vs',
    'req/s',
    'p99 ms',
    'srv CPU',
    'core0 other',
    'µs/req',
    'ratio',
    'CPU ratio',
    '',
  ];
  return `Round ${index + 1}\n${table(header, rows)}`;
}

function ratiosOf(
  target: Target,
  rounds: readonly RoundFigures[],
  of: (t: Target, r: RoundFigures) => number | undefined,
) {
  return rounds.map((r) => of(target, r)).filter((v): v is number => v !== undefined);
}

export function formatSummary(targets: readonly Target[], rounds: readonly RoundFigures[]): string {
  const rows = targets.map((t) => {
    const all = rounds.map((r) => r.get(t.id)!);
    const ratios = ratiosOf(t, rounds, ratioOf);
    const cpuRatios = ratiosOf(t, rounds, cpuRatioOf);
    return [
      t.id,
      t.label,
      rps(median(all.map((m) => m.requestsPerSecond))),
      ms(median(all.map((m) => m.p99Ms))),
      us(median(all.map((m) => m.cpuMicrosPerRequest))),
      t.baseline ?? '',
      ratios.map((r) => r.toFixed(3)).join(' / '),
      ratios.length ? x(median(ratios)) : '',
      cpuRatios.length ? x(median(cpuRatios)) : '',
    ];
  });
  return table(
    ['target', 'request', 'req/s', 'p99 ms', 'µs/req', 'vs', 'ratio per round', 'MEDIAN RATIO', 'CPU ratio'],
    rows,
  );
}

export interface RunFacts {
  readonly date: string;
  readonly machine: string;
  readonly database: string;
  readonly command: string;
  readonly load: string;
  /** How busy the machine was with other work: the run's own load adds about 2. */
  readonly host: string;
}

export function formatMarkdown(
  targets: readonly Target[],
  rounds: readonly RoundFigures[],
  facts: RunFacts,
): string {
  const header = [
    `| target | request | ${rounds.map((_, i) => `round ${i + 1}: req/s · p99 ms · µs CPU/req · core-0 other`).join(' | ')} | vs | ratio per round | **median ratio** | median CPU ratio |`,
    `|---|---|${rounds.map(() => '---:').join('|')}|---|---|---:|---:|`,
  ];
  const rows = targets.map((t) => {
    const cells = rounds.map((r) => {
      const m = r.get(t.id)!;
      return `${rps(m.requestsPerSecond)} · ${ms(m.p99Ms)} · ${us(m.cpuMicrosPerRequest)} · ${pct(m.otherPercent)}`;
    });
    const ratios = ratiosOf(t, rounds, ratioOf);
    const cpuRatios = ratiosOf(t, rounds, cpuRatioOf);
    const tail = ratios.length
      ? `${ratios.map((r) => r.toFixed(3)).join(' / ')} | **${median(ratios).toFixed(3)}×** | ${median(cpuRatios).toFixed(3)}×`
      : ' | | ';
    return `| ${t.id} | ${t.label.replace(/\|/g, '\\|')} | ${cells.join(' | ')} | ${t.baseline ?? ''} | ${tail} |`;
  });
  return [
    `- date: ${facts.date}`,
    `- machine: ${facts.machine}`,
    `- database: ${facts.database}`,
    `- load: ${facts.load}`,
    `- host: ${facts.host}`,
    `- command: \`${facts.command}\``,
    '',
    ...header,
    ...rows,
  ].join('\n');
}
