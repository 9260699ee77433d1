// A real terminal for the tests that need one (a prompt that must not echo): a command run in
// a detached tmux session on a private tmux server, typed into with send-keys and read back
// with capture-pane, as a person at a terminal would see it.
//
// tmux missing: under CI this tier is mandatory (.ci/run installs it) and the suite fails;
// elsewhere it skips with a message naming the package.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TMUX_PATH = '/usr/bin/tmux';

export function terminalTier(): { skip: false | string } {
  if (existsSync(TMUX_PATH) || process.env.CI === 'true') return { skip: false };
  return {
    skip: `tmux not found at ${TMUX_PATH}: install Debian's tmux package to run the terminal tests (mandatory under CI)`,
  };
}

export interface Terminal {
  /** What the screen shows now, lines joined (wrapped lines rejoined). */
  screen(): Promise<string>;
  /** Resolves once the screen matches; rejects after the deadline with what it showed. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Types the text literally, then Enter. */
  typeLine(text: string): Promise<void>;
  close(): Promise<void>;
}

/** Runs `argv` (with `env`) in a fresh 200×50 terminal. */
export async function openTerminal(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<Terminal> {
  const socket = `gatehouse-test-${process.pid}-${Date.now()}`;
  const tmux = (...args: string[]) => run(TMUX_PATH, ['-L', socket, ...args], { timeout: 10_000 });
  const quoted = argv.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
  // The shell stays after the command so its exit status can be read off the screen.
  const script = `${quoted}; echo "[exit $?]"; sleep 60`;
  const envArgs = Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  await tmux('new-session', '-d', '-s', 'cli', '-x', '200', '-y', '50', ...envArgs, script);
  const screen = async () => (await tmux('capture-pane', '-p', '-J', '-t', 'cli')).stdout;
  return {
    screen,
    waitFor: async (pattern, timeoutMs = 20_000) => {
      let shown = '';
      for (let waited = 0; waited < timeoutMs; waited += 100) {
        shown = await screen();
        if (pattern.test(shown)) return shown;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the terminal never showed ${pattern}; it shows:\n${shown}`);
    },
    typeLine: async (text) => {
      await tmux('send-keys', '-t', 'cli', '-l', text);
      await tmux('send-keys', '-t', 'cli', 'Enter');
    },
    close: async () => {
      await tmux('kill-server').catch(() => {});
    },
  };
}
