// What the client commands read from their environment (SPEC §9), read once at start-up and
// passed in: the GATEHOUSE_* values of the resolution rule, where the config file lives
// (XDG Base Directory), and what says whether a browser can be opened on this machine.
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface ClientEnvironment {
  /** GATEHOUSE_API_KEY: a key to use instead of any profile. */
  readonly apiKey: string | undefined;
  /** GATEHOUSE_URL: the server, for a key given by flag or variable (or a first login). */
  readonly url: string | undefined;
  readonly profile: string | undefined;
  readonly org: string | undefined;
  readonly project: string | undefined;
  /** The directory holding config.json: `$XDG_CONFIG_HOME/gatehouse` or `~/.config/gatehouse`. */
  readonly configDir: string;
  readonly browser: BrowserEnvironment;
}

/** The facts that decide whether the system browser can be opened, and with what. */
export interface BrowserEnvironment {
  readonly platform: NodeJS.Platform;
  /** The `BROWSER` convention: a command to open URLs with, which wins over the platform's. */
  readonly command: string | undefined;
  readonly hasDisplay: boolean;
  readonly overSsh: boolean;
}

/** An unset or empty variable is absent: `GATEHOUSE_ORG= gatehouse …` does not name an org. */
function variable(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function readClientEnvironment(env: NodeJS.ProcessEnv): ClientEnvironment {
  // XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = variable(env, 'XDG_CONFIG_HOME');
  const configHome = xdg?.startsWith('/') ? xdg : join(variable(env, 'HOME') ?? homedir(), '.config');
  return {
    apiKey: variable(env, 'GATEHOUSE_API_KEY'),
    url: variable(env, 'GATEHOUSE_URL'),
    profile: variable(env, 'GATEHOUSE_PROFILE'),
    org: variable(env, 'GATEHOUSE_ORG'),
    project: variable(env, 'GATEHOUSE_PROJECT'),
    configDir: join(configHome, 'gatehouse'),
    browser: {
      platform: process.platform,
      command: variable(env, 'BROWSER'),
      hasDisplay: variable(env, 'DISPLAY') !== undefined || variable(env, 'WAYLAND_DISPLAY') !== undefined,
      overSsh: variable(env, 'SSH_CONNECTION') !== undefined || variable(env, 'SSH_TTY') !== undefined,
    },
  };
}
