// Child processes of a bench run: servers pinned to the server core and one-shot commands.
// Every child is tracked here so that stopAll() (on success, error or Ctrl-C) ends exactly
// the processes this run started, by pid.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { READY_PREFIX } from './child-server.ts';

export const SERVER_CORE = '0';
export const LOAD_CORE = '1';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 8_000;

const live = new Set<ChildProcess>();

export interface RunningChild {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited(child);
  clearTimeout(timer);
}

/**
 * Starts `node [NODE_ARGS] --import tsx SCRIPT` pinned with `taskset -c 0` and waits for its
 * `BENCH_READY <url>` line. Its other output is kept and shown only if it fails to start;
 * lines on stderr after start-up are echoed with the server's name.
 */
export async function startPinnedServer(
  name: string,
  script: string,
  env: Record<string, string | undefined>,
  nodeArgs: readonly string[] = [],
): Promise<RunningChild> {
  const args = ['-c', SERVER_CORE, process.execPath, ...nodeArgs, '--import', 'tsx', script];
  const child = spawn('taskset', args, {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const output: string[] = [];
  let ready = false;
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 200) output.shift();
    if (ready) process.stderr.write(`  [${name}] ${line}\n`);
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  const stdout = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), READY_TIMEOUT_MS);
    stdout.on('line', (line) => {
      if (!ready && line.startsWith(READY_PREFIX)) {
        ready = true;
        clearTimeout(timer);
        resolve(line.slice(READY_PREFIX.length).trim());
      } else keep(line);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${name} exited before it was ready (${signal ?? `code ${code}`})`));
    });
    child.once('error', reject);
  }).catch(async (error: Error) => {
    await terminate(child);
    throw new Error(`${error.message}\n${output.map((l) => `  [${name}] ${l}`).join('\n')}`);
  });
  return { name, url, pid: child.pid!, stop: () => terminate(child) };
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (tracked, so Ctrl-C ends it too), feeding `input` on stdin. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {},
): Promise<CommandResult> {
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin!.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      live.delete(child);
      reject(error);
    });
    child.once('close', (code) => {
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Ends every child this run started and has not yet seen exit. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => terminate(child)));
}
