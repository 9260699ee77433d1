// Debian's real nginx (/usr/sbin/nginx; CI installs nginx-light) for the end-to-end tier,
// run unprivileged-style in a throwaway prefix: every file it writes (pid, logs, temp
// paths) is inside one temporary directory, it stays in the foreground as our child, and
// every wait on it is bounded.
//
// nginx missing: under CI the tier is mandatory and nginxTier() says so by failing;
// elsewhere the suites skip with a message that names the package.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process.ts';

export const NGINX_PATH = '/usr/sbin/nginx';

/** The longest nginx may take to start answering, or to exit once asked to. */
const START_MS = 10_000;
const STOP_MS = 5_000;

/**
 * How an nginx suite should run: `skip` is false or the reason to skip. Under CI a missing
 * nginx is never a skip: `startNginx` then throws, so the suite fails.
 */
export function nginxTier(): { skip: false | string } {
  if (existsSync(NGINX_PATH) || process.env.CI === 'true') return { skip: false };
  return {
    skip: `nginx not found at ${NGINX_PATH}: install Debian's nginx-light package to run the nginx tests (mandatory under CI)`,
  };
}

/**
 * The lines between `# BEGIN name` and `# END name` in a document: a configuration the
 * documentation shows and a test runs, so the two cannot drift apart.
 */
export function markedBlock(documentPath: string, name: string): string {
  const text = readFileSync(documentPath, 'utf8');
  const begin = `# BEGIN ${name}\n`;
  const end = `# END ${name}\n`;
  const start = text.indexOf(begin);
  const stop = text.indexOf(end, start);
  if (start < 0 || stop < 0)
    throw new Error(`${documentPath} has no "# BEGIN ${name}" … "# END ${name}" block`);
  if (text.indexOf(begin, start + 1) >= 0)
    throw new Error(`${documentPath} has two "# BEGIN ${name}" blocks`);
  return text.slice(start + begin.length, stop);
}

/** `text` with `from` replaced by `to`, which must occur exactly once (a doc edit fails loudly here). */
export function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0) throw new Error(`the configuration no longer contains ${JSON.stringify(from)}`);
  if (text.indexOf(from, at + 1) >= 0)
    throw new Error(`the configuration contains ${JSON.stringify(from)} twice`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

export interface RunningNginx {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** What nginx wrote to its error log so far (for assertion messages). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Starts nginx with `build(port)` inside its `http { }` context, `port` being a free
 * loopback port the block must listen on. Resolves once nginx answers HTTP there.
 */
export async function startNginx(build: (port: number) => string): Promise<RunningNginx> {
  if (!existsSync(NGINX_PATH)) {
    throw new Error(
      `the nginx tests need Debian's nginx at ${NGINX_PATH} (apt-get install nginx-light; CI=${process.env.CI ?? ''}): it is missing`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  const port = await freePort();
  const errorLogPath = join(dir, 'error.log');
  const config = [
    // `daemon off;` comes from -g on the command line: nginx refuses it twice.
    // The master runs as whoever runs the tests; as root its workers would otherwise
    // become `nobody`, who cannot enter this private directory.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${errorLogPath} info;`,
    'events { worker_connections 128; }',
    'http {',
    `  access_log ${join(dir, 'access.log')};`,
    `  client_body_temp_path ${join(dir, 'client_body')};`,
    `  proxy_temp_path ${join(dir, 'proxy')};`,
    `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
    `  scgi_temp_path ${join(dir, 'scgi')};`,
    build(port),
    '}',
    '',
  ].join('\n');
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, config);

  const child: ChildProcess = spawn(
    NGINX_PATH,
    ['-p', `${dir}/`, '-c', configPath, '-e', errorLogPath, '-g', 'daemon off;'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (error) => {
      output += `\n${error.message}`;
      exited = true;
      resolve();
    });
  });
  const errorLog = () => {
    const log = existsSync(errorLogPath) ? readFileSync(errorLogPath, 'utf8') : '';
    return `${output}${log}`;
  };

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const deadline = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
      await exit;
      clearTimeout(deadline);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + START_MS;
  for (;;) {
    if (exited) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx exited at start-up:\n${log}\n--- nginx.conf ---\n${config}`);
    }
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(1_000) });
      break;
    } catch {
      if (Date.now() > until) {
        const log = errorLog();
        await stop();
        throw new Error(`nginx did not answer on ${url} within ${START_MS} ms:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { url, port, errorLog, stop };
}
