// What a benchmark is: a set of servers it starts and the targets wrk loads, each
// Gatehouse target paired with the baseline its ratio is taken against, and optionally
// the goals the run is judged on.
import type { BenchDatabase } from './database.ts';
import type { Measurement } from './measure.ts';

export type RoundFigures = ReadonlyMap<string, Measurement>;

/** Named counters read from a server around each measurement (e.g. from its /metrics). */
export type Counters = Readonly<Record<string, number>>;

export interface Target {
  /** Short id printed in tables: `B-GET`, `G-me`. */
  readonly id: string;
  /** What the request is, e.g. `GET /v1/me (session cookie)`. */
  readonly label: string;
  readonly url: string;
  /** Sent by wrk (-H) and by the plain request before any load. */
  readonly headers: Readonly<Record<string, string>>;
  /** GET unless given. wrk sends it (lib/wrk.ts writes the script) unless the target has a script. */
  readonly method?: 'POST';
  /**
   * The request body, sent by the plain request before any load, and by wrk on every request
   * unless the target has a script (which then builds the bodies itself).
   */
  readonly body?: string;
  /** The server process answering it, for CPU accounting. */
  readonly pid: number;
  /** The id of the baseline target this one is divided by; absent for baselines. */
  readonly baseline?: string;
  /**
   * The one status every answer must have, e.g. 401 for a flood of unknown keys. Absent: any
   * 2xx. Any other answer, to the plain request or under load, makes the run invalid. With a
   * status set, wrk counts every answer's status (lib/wrk.ts adds the counting to the script).
   */
  readonly expectedStatus?: number;
  /**
   * A wrk Lua script (a path) that builds the requests, e.g. a different credential on each.
   * It may define `init` and `request`; `setup`, `response` and `done` belong to the harness
   * when it counts statuses (expectedStatus), and are the script's otherwise.
   */
  readonly script?: string;
  /**
   * Read before the warm-up, between warm-up and measured run, and after it; the measurement
   * keeps the differences (e.g. how many database lookups a flood of requests caused).
   */
  readonly probe?: () => Promise<Counters>;
}

export interface Goal {
  /** What is required, e.g. `G-check-key ≥ 0.65 × B-GET (median ratio)`. */
  readonly goal: string;
  readonly pass: boolean;
  /** The figures it was judged on. */
  readonly figures: string;
}

export interface PreparedRun {
  readonly targets: Target[];
  /** Lines printed under each round's table (counters read around a target, say). */
  roundNotes?(round: RoundFigures): string[];
  /** Lines printed under the medians and in the Markdown after the rounds' notes (reference points, say). */
  summaryNotes?(rounds: readonly RoundFigures[]): string[];
  /**
   * The goals, judged once all rounds are done (servers still running). Goals about a target
   * left out by --only are left out too.
   */
  goals?(rounds: readonly RoundFigures[]): Promise<Goal[]>;
}

export interface SuiteContext {
  readonly db: BenchDatabase;
  /** A directory of this run's own (wrk scripts and the like), removed at the end. */
  readonly runDir: string;
  log(line: string): void;
  /** Extra node flags for the Gatehouse processes (e.g. --cpu-prof). */
  readonly gatehouseNodeArgs: readonly string[];
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  /** Starts (through lib/processes.ts, so they are stopped at the end) and seeds the servers. */
  prepare(context: SuiteContext): Promise<PreparedRun>;
}
