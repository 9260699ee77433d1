// The CLI's profiles (SPEC §9): `config.json` in the config directory, mode 0600 in a 0700
// directory, written atomically (a temporary file in the same directory, then rename), with a
// `version` for later migrations. A file this version cannot read is an error naming the
// file, never overwritten. Every change happens under the file lock, re-reading the file
// first, so concurrent processes (ten `gatehouse auth token` at once) never lose a write and
// perform one refresh between them.
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import { CliError } from '../exit-codes.ts';

export const CONFIG_VERSION = 1;

const OauthCredential = z.object({
  method: z.literal('oauth'),
  client_id: z.string().min(1),
  access_token: z.string().min(1),
  /** ISO 8601: when the access token expires. */
  expires_at: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
});

const ApiKeyCredential = z.object({ method: z.literal('api_key'), api_key: z.string().min(1) });

const Profile = z.object({
  url: z.string().min(1),
  /** The authorization server that issued the credential: stored credentials are keyed by it. */
  issuer: z.string().min(1).optional(),
  credential: z.discriminatedUnion('method', [OauthCredential, ApiKeyCredential]),
  org: z.string().min(1).optional(),
  project: z.string().min(1).optional(),
  /** Who signed in, as the server said at login: shown by `auth status` without a request. */
  subject: z.object({ kind: z.string(), id: z.string(), email: z.string().optional() }).optional(),
  saved_at: z.string().optional(),
});

const ConfigFile = z.object({
  version: z.literal(CONFIG_VERSION),
  default_profile: z.string().min(1).optional(),
  profiles: z.record(z.string(), Profile),
  /** The CLI's own registration (RFC 7591) at each authorization server, made once. */
  clients: z.record(z.string(), z.object({ client_id: z.string().min(1), registered_at: z.string() })),
});

export type OauthCredential = z.infer<typeof OauthCredential>;
export type ProfileEntry = z.infer<typeof Profile>;
export type ConfigData = z.infer<typeof ConfigFile>;

/** Profile names are keys people type: letters, digits, `.`, `_` and `-`. */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const LOCK_OPTIONS = {
  // A process holding the lock refreshes its mtime; a lock untouched this long is stale
  // (its holder died mid-refresh) and is taken over.
  stale: 10_000,
  update: 2_000,
  // Waiters wait about a minute: longer than a holder's refresh can take (two OAuth requests
  // of at most 15 s each).
  retries: { retries: 300, minTimeout: 20, maxTimeout: 200, factor: 1.3 },
  realpath: false,
} as const;

export class ConfigStore {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, 'config.json');
  }

  /** The profiles on disk; an absent file is an empty configuration. */
  read(): ConfigData {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
      throw new CliError(`cannot read ${this.path}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CliError(
        `${this.path} is not valid JSON; it was left as it is. Fix it, or move it away and sign in again.`,
      );
    }
    const version = (parsed as { version?: unknown } | null)?.version;
    if (version !== CONFIG_VERSION) {
      throw new CliError(
        `${this.path} has version ${JSON.stringify(version ?? null)}, and this gatehouse reads version ${CONFIG_VERSION}; it was left as it is. Use the gatehouse that wrote it, or move the file away and sign in again.`,
      );
    }
    const checked = ConfigFile.safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new CliError(
        `${this.path} is not a valid gatehouse configuration (${issue?.path.join('.') || 'file'}: ${issue?.message}); it was left as it is.`,
      );
    }
    return checked.data;
  }

  /**
   * Runs `change` on the current contents under the lock and writes what it returns (nothing
   * when it returns undefined). The file is read again inside the lock: another process may
   * have changed it since this one last looked.
   */
  async update<T>(change: (config: ConfigData) => Promise<{ config?: ConfigData; result: T }>): Promise<T> {
    this.ensureDir();
    let release: () => Promise<void>;
    // Compromised: this process stalled past the stale time and another took the lock over
    // (the library's default would throw from a timer). Whatever was computed under the lost
    // lock is then not written: the other process's refresh wins.
    let lost = false;
    try {
      release = await lockfile.lock(this.path, {
        ...LOCK_OPTIONS,
        onCompromised: () => {
          lost = true;
        },
      });
    } catch (error) {
      throw new CliError(
        `cannot lock ${this.path} (another gatehouse holds it): ${(error as Error).message}`,
      );
    }
    try {
      const { config, result } = await change(this.read());
      if (lost)
        throw new CliError(
          `lost the lock on ${this.path} to another gatehouse; nothing was written, run the command again`,
        );
      if (config !== undefined) this.write(config);
      return result;
    } finally {
      await release().catch(() => {});
    }
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // An existing directory others can read would expose the credentials' file names and
    // temporary files: it is ours, so it is tightened.
    if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
  }

  private write(config: ConfigData): void {
    const temporary = join(this.dir, `.config.json.${process.pid}.${randomUUID()}.tmp`);
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(config, null, 2)}\n`);
      fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      unlinkSync(temporary);
      throw error;
    }
    closeSync(fd);
    renameSync(temporary, this.path);
  }
}

export function emptyConfig(): ConfigData {
  return { version: CONFIG_VERSION, profiles: {}, clients: {} };
}
