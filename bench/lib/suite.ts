// What a benchmark is: a set of servers it starts and the targets wrk loads, each
// Gatehouse target paired with the baseline its ratio is taken against.
import type { BenchDatabase } from './database.ts';

export interface Target {
  /** Short id printed in tables: `B-GET`, `G-me`. */
  readonly id: string;
  /** What the request is, e.g. `GET /v1/me (session cookie)`. */
  readonly label: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The server process answering it, for CPU accounting. */
  readonly pid: number;
  /** The id of the baseline target this one is divided by; absent for baselines. */
  readonly baseline?: string;
}

export interface SuiteContext {
  readonly db: BenchDatabase;
  log(line: string): void;
  /** Extra node flags for the Gatehouse process (e.g. --cpu-prof). */
  readonly gatehouseNodeArgs: readonly string[];
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  /** Starts (through lib/processes.ts, so they are stopped at the end) and seeds the servers. */
  prepare(context: SuiteContext): Promise<Target[]>;
}
