// Runs the real `gatehouse` command (`node bin/gatehouse.mjs …`) as a child process, the way
// an operator does: the environment is the test's GATEHOUSE_* variables only (never the
// developer's shell ones), stdin is given or closed, and every run has a deadline.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/gatehouse.mjs', import.meta.url));

export interface GatehouseRun {
  /** The exit code; null when the process was ended by a signal (its name is in `signal`). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

export interface GatehouseOptions {
  /** GATEHOUSE_* variables for the child; anything of the kind in this process is dropped. */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to stdin, which is then closed; stdin is closed at once when absent. */
  readonly stdin?: string;
  /** Killed (SIGKILL) after this long; the run then reports timedOut. */
  readonly timeoutMs?: number;
}

function childEnv(env: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('GATEHOUSE_')),
  );
  return { ...inherited, NO_COLOR: '1', ...env };
}

/** A running `gatehouse` process: its output so far, and a promise of how it ended. */
export interface GatehouseProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<GatehouseRun>;
  /** Resolves once stdout matches, or rejects when the process ends or the deadline passes. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): void;
}

export function spawnGatehouse(args: readonly string[], options: GatehouseOptions = {}): GatehouseProcess {
  const started = Date.now();
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin!.on('error', () => {}); // the child may exit before reading stdin
  child.stdin!.end(options.stdin ?? '');
  const deadline =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs);
  const exited = new Promise<GatehouseRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (deadline) clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut });
    });
  });
  let ended = false;
  void exited.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );

  async function waitForStdout(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(stdout);
      if (match) return match;
      if (ended) throw new Error(`gatehouse exited before printing ${pattern}\n${stdout}\n${stderr}`);
      if (Date.now() > until) throw new Error(`gatehouse did not print ${pattern}\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStdout,
    kill: (signal = 'SIGTERM') => {
      if (!ended) child.kill(signal);
    },
  };
}

/** Runs `gatehouse ARGS` to completion (30 s deadline unless told) and returns what it printed. */
export function runGatehouse(args: readonly string[], options: GatehouseOptions = {}): Promise<GatehouseRun> {
  return spawnGatehouse(args, { timeoutMs: 30_000, ...options }).exited;
}

/** The non-empty lines a run wrote to one of its streams. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** A TCP port nobody listens on right now (the OS picks it; a short race remains, as always). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
