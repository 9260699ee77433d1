// `npm run bench -- NAME [--db sqlite|postgres]`: the bench harness (shared/BENCHMARKS.md).
// Starts the baselines and Gatehouse as separate processes pinned to core 0, loads each
// target from wrk pinned to core 1 (3 s warm-up discarded, then 10 s measured), three
// rounds with the targets interleaved, and prints req/s, p50, p99 and the ratio of each
// Gatehouse target to its baseline per round and as the median of the per-round ratios,
// then the suite's goals as PASS/FAIL. Every answer must be the one its target expects
// (2xx unless it names a status), or the run is invalid.
// Everything it started is stopped at the end, on an error and on Ctrl-C.
import { existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { expectedAnswer, unexpectedAnswers } from './lib/answers.ts';
import { type BenchDatabase, createBenchDatabase, type DbKind } from './lib/database.ts';
import { type Measurement, measure } from './lib/measure.ts';
import { stopAll } from './lib/processes.ts';
import { formatGoals, formatMarkdown, formatRound, formatSummary, type RoundFigures } from './lib/report.ts';
import type { Goal, Suite, Target } from './lib/suite.ts';
import { WRK, type WrkScript, wrkScriptFor } from './lib/wrk.ts';
import { authSuite } from './suites/auth.ts';
import { authzCheckSuite } from './suites/authz-check.ts';
import { tokenSuite } from './suites/token.ts';

const suites: Record<string, Suite> = { auth: authSuite, 'authz-check': authzCheckSuite, token: tokenSuite };

const STANDARD = { rounds: 3, warmup: 3, duration: 10, connections: 50 } as const;

const USAGE = `usage: npm run bench -- NAME [--db sqlite|postgres]
  NAME        ${Object.values(suites)
    .map((s) => `${s.name}: ${s.description}`)
    .join('\n              ')}
  --db        sqlite (default) or postgres (a throwaway database on 127.0.0.1:5432,
              or BENCH_POSTGRES_URL, loopback only)
  --rounds N, --warmup S, --duration S, --connections N, --only ID,ID
              for trying things out only; figures for bench/README.md use the defaults
              (${STANDARD.rounds} rounds, ${STANDARD.warmup} s warm-up, ${STANDARD.duration} s measured, ${STANDARD.connections} connections, every target)
  --cpu-prof DIR
              run Gatehouse under node --cpu-prof, writing the profile into DIR at the end`;

interface Options {
  suite: Suite;
  db: DbKind;
  rounds: number;
  warmup: number;
  duration: number;
  connections: number;
  only: string[] | undefined;
  cpuProfDir: string | undefined;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) fail(`--${name} must be a positive integer`);
  return Number(raw);
}

function parseOptions(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      db: { type: 'string', default: 'sqlite' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const name = positionals[0];
  if (!name || positionals.length > 1) fail('name one benchmark');
  const suite = suites[name];
  if (!suite) fail(`unknown benchmark "${name}"`);
  if (values.db !== 'sqlite' && values.db !== 'postgres') fail('--db is sqlite or postgres');
  return {
    suite,
    db: values.db,
    rounds: positiveInt('rounds', values.rounds, STANDARD.rounds),
    warmup: positiveInt('warmup', values.warmup, STANDARD.warmup),
    duration: positiveInt('duration', values.duration, STANDARD.duration),
    connections: positiveInt('connections', values.connections, STANDARD.connections),
    only: values.only?.split(',').map((id) => id.trim()),
    cpuProfDir: values['cpu-prof'] && resolve(values['cpu-prof']),
  };
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/**
 * One plain request per target before any load: each must answer its expected status (200
 * unless the target names one), or the run stops.
 */
async function verifyTargets(targets: readonly Target[]): Promise<void> {
  for (const target of targets) {
    const expected = target.expectedStatus ?? 200;
    const response = await fetch(target.url, {
      method: target.method ?? 'GET',
      headers: { ...target.headers },
      ...(target.body !== undefined && { body: target.body }),
    });
    const body = await response.text();
    if (response.status !== expected) {
      throw new Error(
        `${target.id} (${target.url}) answered ${response.status}, not ${expected}: ${body.slice(0, 300)}`,
      );
    }
    log(
      `${target.id} answers ${expected} (${body.length} bytes): ${body.slice(0, 100)}${body.length > 100 ? '…' : ''}`,
    );
  }
}

/** Round r visits the targets starting r places further on, so no target always goes first. */
function orderFor(round: number, targets: readonly Target[]): Target[] {
  const shift = round % targets.length;
  return [...targets.slice(shift), ...targets.slice(0, shift)];
}

/** --only keeps the named targets and the baselines they are divided by. */
function selectTargets(all: readonly Target[], only: readonly string[] | undefined): Target[] {
  if (!only) return [...all];
  const unknown = only.filter((id) => !all.some((t) => t.id === id));
  if (unknown.length)
    throw new Error(`--only: no target ${unknown.join(', ')} (${all.map((t) => t.id).join(', ')})`);
  const keep = new Set(only);
  for (const t of all) if (keep.has(t.id) && t.baseline) keep.add(t.baseline);
  return all.filter((t) => keep.has(t.id));
}

function isStandard(options: Options): boolean {
  return (
    options.rounds === STANDARD.rounds &&
    options.warmup === STANDARD.warmup &&
    options.duration === STANDARD.duration &&
    options.connections === STANDARD.connections &&
    options.only === undefined &&
    options.cpuProfDir === undefined
  );
}

function commandLine(argv: readonly string[]): string {
  return `npm run bench -- ${argv.join(' ')}`;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  process.chdir(resolve(dirname(fileURLToPath(import.meta.url)), '..'));
  if (!existsSync(WRK)) fail(`${WRK} is missing (apt-get install wrk)`);
  if (availableParallelism() < 2) fail('needs 2 cores: the server on core 0, wrk on core 1');

  let database: BenchDatabase | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    cleaning ??= (async () => {
      await stopAll();
      if (database) {
        await database
          .drop()
          .catch((error: Error) => log(`could not remove ${database?.where}: ${error.message}`));
        log(`removed ${database.where}`);
      }
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping everything this run started`);
      void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }

  const started = Date.now();
  const loadAtStart = loadavg()[0]!;
  if (loadAtStart > 1)
    log(`the host is already busy (1-min load average ${loadAtStart.toFixed(2)}): expect noise`);
  try {
    database = await createBenchDatabase(options.db);
    log(`${database.version} at ${database.where}`);
    const runDir = database.dataDir;
    const prepared = await options.suite.prepare({
      db: database,
      runDir,
      log,
      gatehouseNodeArgs: options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [],
    });
    const targets = selectTargets(prepared.targets, options.only);
    const scripts = new Map<string, WrkScript | undefined>(
      targets.map((t) => [t.id, wrkScriptFor(t, runDir)]),
    );
    await verifyTargets(targets);
    const perMeasure = options.warmup + options.duration;
    log(
      `${options.rounds} rounds × ${targets.length} targets × (${options.warmup} s warm-up + ${options.duration} s) ≈ ${Math.ceil((options.rounds * targets.length * perMeasure) / 60)} min`,
    );
    if (!isStandard(options)) log('non-standard settings: do not record these figures in bench/README.md');

    const rounds: RoundFigures[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const round = new Map<string, Measurement>();
      for (const target of orderFor(r, targets)) {
        const script = scripts.get(target.id);
        const m = await measure(target, {
          connections: options.connections,
          warmupSeconds: options.warmup,
          seconds: options.duration,
          ...(script && { script }),
        });
        round.set(target.id, m);
        const wrong = unexpectedAnswers(target, m) ?? unexpectedAnswers(target, m.warmup);
        log(
          `round ${r + 1}: ${target.id} ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, server CPU ${Math.round(m.serverPercent)}%, core 0 other ${Math.round(m.otherPercent)}%${wrong ? `, ${wrong}` : ''}`,
        );
      }
      rounds.push(round);
      const notes = prepared.roundNotes?.(round) ?? [];
      process.stdout.write(`\n${formatRound(r, targets, round)}\n${notes.map((n) => `  ${n}\n`).join('')}`);
    }
    // wrk leaves up to 50 requests queued in a server when it stops; let them finish, so
    // stopping the servers does not close a database under a running handler (and so the
    // counters the goals read have settled).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const goals: Goal[] = (await prepared.goals?.(rounds)) ?? [];
    const summaryNotes = prepared.summaryNotes?.(rounds) ?? [];
    const allNotes = [
      ...rounds.flatMap((round, i) =>
        (prepared.roundNotes?.(round) ?? []).map((n) => `round ${i + 1}: ${n}`),
      ),
      ...summaryNotes,
    ];

    const facts = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      machine: `nproc ${availableParallelism()}, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
      database: database.version,
      command: commandLine(argv),
      host: `1-min load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`,
      load: `taskset -c 1 wrk -t1 -c${options.connections} -d${options.duration}s --latency after a ${options.warmup} s warm-up; servers on taskset -c 0; ${options.rounds} rounds interleaved`,
    };
    process.stdout.write(`\nMedians over ${options.rounds} rounds (${options.suite.name}, ${options.db})\n`);
    process.stdout.write(`${formatSummary(targets, rounds)}\n`);
    if (summaryNotes.length) process.stdout.write(`${summaryNotes.map((n) => `  ${n}\n`).join('')}`);
    if (goals.length)
      process.stdout.write(`\nGoals (${options.suite.name}, ${options.db})\n${formatGoals(goals)}\n`);
    process.stdout.write(
      `\nFor bench/README.md:\n\n${formatMarkdown(targets, rounds, facts, { notes: allNotes, goals })}\n\n`,
    );

    const broken = targets.filter((t) =>
      rounds.some((round) => {
        const m = round.get(t.id)!;
        return unexpectedAnswers(t, m) !== undefined || unexpectedAnswers(t, m.warmup) !== undefined;
      }),
    );
    log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
    if (options.cpuProfDir) log(`Gatehouse CPU profile: ${options.cpuProfDir} (written as it stops)`);
    if (broken.length > 0) {
      log(
        `INVALID: answers other than the expected one under load from ${broken.map((t) => `${t.id} (expected ${expectedAnswer(t)})`).join(', ')}`,
      );
      return 1;
    }
    return 0;
  } finally {
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
