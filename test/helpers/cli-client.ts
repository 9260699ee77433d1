// The client side of the `gatehouse` CLI against a live server: a Gatehouse listening on
// 127.0.0.1 with a first admin (made by `gatehouse admin create`, as an operator would), and
// CLI runs with their own config directory and an environment that says nothing about the
// developer's machine (no display, no SSH, no BROWSER, no GATEHOUSE_* but the test's).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { TEST_PASSWORD } from './app.ts';
import { type BackendKind, createTestDatabase, type TestDatabase } from './backends.ts';
import { callV1, type HttpSession, signInOverHttp } from './http-client.ts';
import {
  freePort,
  type GatehouseOptions,
  type GatehouseRun,
  runGatehouse,
  spawnGatehouse,
} from './process.ts';

export const ADMIN_EMAIL = 'ada@cli.example';
export const ORG = 'acme';

export interface LiveGatehouse {
  /** The URL the server names itself by (GATEHOUSE_PUBLIC_URL). */
  readonly publicUrl: string;
  /** Where it listens: the public URL unless a proxy in front was asked for. */
  readonly listenUrl: string;
  readonly kind: BackendKind;
  /** The admin's browser session over HTTP, for setting things up through /v1. */
  readonly admin: HttpSession;
  stop(): Promise<void>;
}

export async function startLiveGatehouse(
  kind: BackendKind,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<LiveGatehouse> {
  const database: TestDatabase = await createTestDatabase(kind);
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-server-'));
  const port = await freePort();
  const listenUrl = `http://127.0.0.1:${port}`;
  const env = {
    GATEHOUSE_DATABASE_URL: database.url,
    GATEHOUSE_SECRET_KEY: generateMasterKey(),
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_PUBLIC_URL: listenUrl,
    ...extraEnv,
  };
  const publicUrl = env.GATEHOUSE_PUBLIC_URL;
  const created = await runGatehouse(['admin', 'create', '--email', ADMIN_EMAIL, '--org', ORG], {
    env,
    stdin: `${TEST_PASSWORD}\n`,
  });
  assert.equal(created.code, 0, created.stderr);
  let server: RunningServer | undefined;
  try {
    server = await startServer({
      ...env,
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_PORT: String(port),
      GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_TEST_LOG ?? 'silent',
    });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const admin = await signInOverHttp(listenUrl, ADMIN_EMAIL);
  return {
    publicUrl,
    listenUrl,
    kind,
    admin,
    stop: async () => {
      await server?.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An API key the admin creates for themselves in `org` through /v1. */
export async function createApiKeyAs(
  live: LiveGatehouse,
  name: string,
  org = ORG,
): Promise<{ id: string; token: string }> {
  const answer = await callV1<{ id: string; token: string }>(
    live.publicUrl,
    { session: live.admin },
    'POST',
    `/orgs/${org}/api-keys`,
    {
      name,
    },
  );
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body;
}

/** One developer's machine: a config directory of its own, and the CLI run in it. */
export interface CliMachine {
  readonly configDir: string;
  readonly configPath: string;
  run(args: readonly string[], options?: GatehouseOptions): Promise<GatehouseRun>;
  spawn(args: readonly string[], options?: GatehouseOptions): ReturnType<typeof spawnGatehouse>;
  config(): ConfigOnDisk;
  remove(): void;
}

export interface ConfigOnDisk {
  version: number;
  default_profile?: string;
  profiles: Record<
    string,
    {
      url: string;
      issuer?: string;
      org?: string;
      project?: string;
      credential: {
        method: string;
        access_token?: string;
        refresh_token?: string;
        expires_at?: string;
        api_key?: string;
        client_id?: string;
      };
    }
  >;
  clients: Record<string, { client_id: string }>;
}

/** Set empty, the variables count as unset (the CLI ignores empty values). */
const NEUTRAL_ENV = { DISPLAY: '', WAYLAND_DISPLAY: '', SSH_CONNECTION: '', SSH_TTY: '', BROWSER: '' };

export function cliMachine(): CliMachine {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-cli-home-'));
  const xdg = join(home, 'config');
  const configDir = join(xdg, 'gatehouse');
  const withEnv = (options: GatehouseOptions = {}): GatehouseOptions => ({
    ...options,
    env: { HOME: home, XDG_CONFIG_HOME: xdg, ...NEUTRAL_ENV, ...options.env },
  });
  return {
    configDir,
    configPath: join(configDir, 'config.json'),
    run: (args, options) => runGatehouse(args, withEnv(options)),
    spawn: (args, options) => spawnGatehouse(args, { timeoutMs: 60_000, ...withEnv(options) }),
    config: () => JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as ConfigOnDisk,
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Asserts a run's exit code, showing what it printed when it differs. */
export function assertExit(run: GatehouseRun, code: number): void {
  assert.equal(
    run.code,
    code,
    `exit ${run.code} (expected ${code})\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
  );
}

/** Resolves once the running CLI's stderr matches, or rejects with what it printed. */
export async function waitForStderr(
  login: ReturnType<CliMachine['spawn']>,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<RegExpMatchArray> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const match = pattern.exec(login.stderr());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the CLI did not print ${pattern}:\n${login.stderr()}`);
}

/** The authorization URL a browser login prints (indented, on a line of its own). */
export async function printedAuthorizationUrl(login: ReturnType<CliMachine['spawn']>): Promise<URL> {
  return new URL((await waitForStderr(login, /^ {2}(http\S+)$/m))[1]!);
}
