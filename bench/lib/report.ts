// Tables of a bench run: per round (req/s, p50, p99, server CPU, ratios to the paired
// baseline), then the medians the goals are judged on, the goals, and the same as Markdown
// for bench/README.md.
//   ratio      = target req/s ÷ baseline req/s, same round (the figure goals are judged on)
//   p99 ratio  = target p99 ÷ baseline p99, same round (lower is better)
//   CPU ratio  = baseline µs CPU/request ÷ target µs CPU/request, same round (steadier when
//                the host is busy; equal to the ratio when both servers saturate core 0)
import { unexpectedAnswers } from './answers.ts';
import type { Measurement } from './measure.ts';
import type { Goal, RoundFigures, Target } from './suite.ts';

export type { RoundFigures } from './suite.ts';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

type PairFigure = (own: Measurement, base: Measurement) => number;

const throughputRatio: PairFigure = (own, base) => own.requestsPerSecond / base.requestsPerSecond;
const p99Ratio: PairFigure = (own, base) => own.p99Ms / base.p99Ms;
const cpuRatio: PairFigure = (own, base) => base.cpuMicrosPerRequest / own.cpuMicrosPerRequest;

function perRound(
  rounds: readonly RoundFigures[],
  id: string,
  baseline: string | undefined,
  figure: PairFigure,
): number[] {
  if (baseline === undefined) return [];
  return rounds.flatMap((round) => {
    const own = round.get(id);
    const base = round.get(baseline);
    return own && base ? [figure(own, base)] : [];
  });
}

/** Target req/s ÷ baseline req/s, one per round in which both were measured. */
export const ratiosOf = (rounds: readonly RoundFigures[], id: string, baseline: string) =>
  perRound(rounds, id, baseline, throughputRatio);

/** Target p99 ÷ baseline p99, one per round in which both were measured. */
export const p99RatiosOf = (rounds: readonly RoundFigures[], id: string, baseline: string) =>
  perRound(rounds, id, baseline, p99Ratio);

const rps = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pct = (n: number) => `${Math.round(n)}%`;
const us = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const x = (n: number | undefined) => (n === undefined ? '' : `${n.toFixed(3)}×`);
const list = (values: readonly number[]) => values.map((v) => v.toFixed(3)).join(' / ');
const medianX = (values: readonly number[]) => (values.length ? x(median(values)) : '');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function flags(target: Target, m: Measurement): string {
  const notes: string[] = [];
  const measured = unexpectedAnswers(target, m);
  const warmup = unexpectedAnswers(target, m.warmup);
  if (measured) notes.push(measured);
  if (warmup) notes.push(`warm-up: ${warmup}`);
  if (m.socketErrors > 0) notes.push(`${m.socketErrors} socket errors`);
  return notes.join(', ');
}

export function formatRound(index: number, targets: readonly Target[], round: RoundFigures): string {
  const rows = targets.map((t) => {
    const m = round.get(t.id)!;
    const one = (figure: PairFigure) => perRound([round], t.id, t.baseline, figure)[0];
    return [
      t.id,
      t.baseline ?? '',
      rps(m.requestsPerSecond),
      ms(m.p50Ms),
      ms(m.p99Ms),
      pct(m.serverPercent),
      pct(m.otherPercent),
      us(m.cpuMicrosPerRequest),
      x(one(throughputRatio)),
      x(one(p99Ratio)),
      x(one(cpuRatio)),
      flags(t, m),
    ];
  });
  const header = [
    'target',
    'vs',
    'req/s',
    'p50 ms',
    'p99 ms',
    'srv CPU',
    'core0 other',
    'µs/req',
    'ratio',
    'p99 ratio',
    'CPU ratio',
    '',
  ];
  return `Round ${index + 1}\n${table(header, rows)}`;
}

export function formatSummary(targets: readonly Target[], rounds: readonly RoundFigures[]): string {
  const rows = targets.map((t) => {
    const all = rounds.map((r) => r.get(t.id)!);
    const ratios = perRound(rounds, t.id, t.baseline, throughputRatio);
    const p99s = perRound(rounds, t.id, t.baseline, p99Ratio);
    return [
      t.id,
      t.label,
      rps(median(all.map((m) => m.requestsPerSecond))),
      ms(median(all.map((m) => m.p50Ms))),
      ms(median(all.map((m) => m.p99Ms))),
      us(median(all.map((m) => m.cpuMicrosPerRequest))),
      t.baseline ?? '',
      list(ratios),
      medianX(ratios),
      list(p99s),
      medianX(p99s),
      medianX(perRound(rounds, t.id, t.baseline, cpuRatio)),
    ];
  });
  return table(
    [
      'target',
      'request',
      'req/s',
      'p50 ms',
      'p99 ms',
      'µs/req',
      'vs',
      'ratio per round',
      'MEDIAN RATIO',
      'p99 ratio per round',
      'p99 ratio',
      'CPU ratio',
    ],
    rows,
  );
}

export function formatGoals(goals: readonly Goal[]): string {
  return goals.map((g) => `  ${g.pass ? 'PASS' : 'FAIL'}  ${g.goal}: ${g.figures}`).join('\n');
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
  extra: { notes?: readonly string[]; goals?: readonly Goal[] } = {},
): string {
  const header = [
    `| target | request | ${rounds.map((_, i) => `round ${i + 1}: req/s · p50 ms · p99 ms · µs CPU/req · core-0 other`).join(' | ')} | vs | ratio per round | **median ratio** | p99 ratio per round | median p99 ratio | median CPU ratio |`,
    `|---|---|${rounds.map(() => '---:').join('|')}|---|---|---:|---|---:|---:|`,
  ];
  const rows = targets.map((t) => {
    const cells = rounds.map((r) => {
      const m = r.get(t.id)!;
      return `${rps(m.requestsPerSecond)} · ${ms(m.p50Ms)} · ${ms(m.p99Ms)} · ${us(m.cpuMicrosPerRequest)} · ${pct(m.otherPercent)}`;
    });
    const ratios = perRound(rounds, t.id, t.baseline, throughputRatio);
    const p99s = perRound(rounds, t.id, t.baseline, p99Ratio);
    const tail = ratios.length
      ? `${list(ratios)} | **${medianX(ratios)}** | ${list(p99s)} | ${medianX(p99s)} | ${medianX(perRound(rounds, t.id, t.baseline, cpuRatio))}`
      : ' | | | | ';
    return `| ${t.id} | ${t.label.replace(/\|/g, '\\|')} | ${cells.join(' | ')} | ${t.baseline ?? ''} | ${tail} |`;
  });
  const notes = extra.notes?.length ? ['', ...extra.notes.map((n) => `- ${n}`)] : [];
  const goals = extra.goals?.length
    ? [
        '',
        'Goals:',
        '',
        ...extra.goals.map((g) => `- **${g.pass ? 'PASS' : 'FAIL'}** ${g.goal}: ${g.figures}`),
      ]
    : [];
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
    ...notes,
    ...goals,
  ].join('\n');
}
