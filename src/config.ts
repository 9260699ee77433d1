// The table of GATEHOUSE_* variables (SPEC §8): each entry parses, defaults and describes
// one variable. This is the only reader of process.env; the result is frozen and passed in.
// docs/configuration.md is generated from this table (scripts/generate-docs.ts).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseMasterKey } from './core/secrets.ts';

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };

export type MasterKeySource =
  | { readonly kind: 'provided'; readonly key: Buffer; readonly from: string }
  /** Embedded mode without a key: generated into (or read from) this file, with a warning. */
  | { readonly kind: 'data_dir_file'; readonly path: string };

export interface Config {
  /** Absolute URL without a trailing slash, so `${publicUrl}/path` is always well-formed. */
  readonly publicUrl: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  readonly masterKey: MasterKeySource;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly trustProxy: { readonly enabled: boolean; readonly addresses: readonly string[] };
  readonly bodyLimitBytes: number;
  /** Cookies get Secure and the __Host- prefix when the public URL is https. */
  readonly secureCookies: boolean;
  /**
   * The in-process caches of verified credentials, members' roles and stored OAuth clients.
   * Entries are dropped on every node when what they say changes; ttlMs bounds them even so.
   * Disabled: every request reads the database.
   */
  readonly credentialCache: {
    readonly enabled: boolean;
    readonly ttlMs: number;
    readonly maxEntries: number;
    readonly negativeTtlMs: number;
  };
  /** Allowed difference between Gatehouse's clock and an identity provider's, for ID-token times. */
  readonly ssoClockSkewSeconds: number;
  /** 0: no scheduled rotation. */
  readonly oauthKeyRotationDays: number;
  /** Client ID Metadata Documents (OAuth clients named by an https URL), docs/oauth.md. */
  readonly oauthClientMetadata: {
    readonly allowedHosts: readonly string[];
    /** Documents used instead of fetching, by client_id. */
    readonly pinned: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
    readonly allowInsecure: boolean;
  };
  /** Failed authentications allowed per client address and window before 429. */
  readonly authFailureLimit: {
    readonly enabled: boolean;
    readonly maxFailures: number;
    readonly windowMs: number;
    readonly maxAddresses: number;
  };
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export interface VariableSpec {
  readonly name: string;
  readonly description: string;
  /** The default as documented; undefined means unset by default. */
  readonly defaultText: string;
  readonly secret: boolean;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const variables: readonly VariableSpec[] = [
  {
    name: 'GATEHOUSE_PUBLIC_URL',
    description: 'The URL users and IdPs reach: issuer, redirect URIs, metadata, setup links.',
    defaultText: 'http://localhost:$GATEHOUSE_PORT (http://localhost:8080)',
    secret: false,
  },
  { name: 'GATEHOUSE_HOST', description: 'Listen address.', defaultText: '127.0.0.1', secret: false },
  {
    name: 'GATEHOUSE_PORT',
    description: 'Listen port (0 picks a free port).',
    defaultText: '8080',
    secret: false,
  },
  {
    name: 'GATEHOUSE_DATABASE_URL',
    description:
      '`postgres://…` for PostgreSQL; `sqlite:PATH` or unset for the embedded SQLite file `$GATEHOUSE_DATA_DIR/gatehouse.db`.',
    defaultText: '(unset: embedded SQLite)',
    secret: true,
  },
  {
    name: 'GATEHOUSE_DATABASE_POOL_SIZE',
    description: 'Connections in the PostgreSQL pool of this node.',
    defaultText: '10',
    secret: false,
  },
  {
    name: 'GATEHOUSE_DATA_DIR',
    description: 'Directory for the embedded database and generated files.',
    defaultText: './.gatehouse',
    secret: false,
  },
  {
    name: 'GATEHOUSE_SECRET_KEY',
    description:
      'Master key: 32 bytes, base64. Encrypts stored secrets and keys derived from it. Required with PostgreSQL; in embedded mode generated into the data dir with a warning when unset.',
    defaultText: '(generated in embedded mode)',
    secret: true,
  },
  {
    name: 'GATEHOUSE_SECRET_KEY_FILE',
    description: 'A file holding the master key (instead of GATEHOUSE_SECRET_KEY).',
    defaultText: '(unset)',
    secret: false,
  },
  {
    name: 'GATEHOUSE_LOG_LEVEL',
    description: `pino log level: ${LOG_LEVELS.join(', ')}.`,
    defaultText: 'info',
    secret: false,
  },
  {
    name: 'GATEHOUSE_TRUST_PROXY',
    description:
      'Comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed; `false` trusts none.',
    defaultText: 'false',
    secret: false,
  },
  {
    name: 'GATEHOUSE_CREDENTIAL_CACHE_SECONDS',
    description:
      'Longest a verified API key, session or access token, a member’s role or an OAuth client’s registration stays cached in a node (changes reach every node at once regardless); 0 turns the caches off.',
    defaultText: '300',
    secret: false,
  },
  {
    name: 'GATEHOUSE_SSO_CLOCK_SKEW_SECONDS',
    description:
      'Clock difference tolerated with an SSO identity provider when checking the times in its tokens (exp, iat, nbf); at most 300.',
    defaultText: '60',
    secret: false,
  },
  {
    name: 'GATEHOUSE_OAUTH_CLIENT_METADATA_HOSTS',
    description:
      'Hosts whose Client ID Metadata Documents may be fetched when an OAuth client names itself by an https URL, comma-separated; `*.example.com` for subdomains. Empty: none are fetched (pinned documents still work).',
    defaultText: '',
    secret: false,
  },
  {
    name: 'GATEHOUSE_OAUTH_CLIENT_METADATA_PINNED',
    description:
      'A JSON file with an array of Client ID Metadata Documents used instead of fetching them (air-gapped installs, well-known clients); each names its URL in client_id.',
    defaultText: '',
    secret: false,
  },
  {
    name: 'GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE',
    description:
      'Development only: `true` lets client metadata documents come over plain http and from loopback or private addresses. Start-up warns while it is on.',
    defaultText: 'false',
    secret: false,
  },
  {
    name: 'GATEHOUSE_OAUTH_KEY_ROTATION_DAYS',
    description:
      'Age at which the signing key of OAuth access tokens is replaced by the next one (checked hourly; every node picks up the new keys); 0 rotates only on demand.',
    defaultText: '30',
    secret: false,
  },
  {
    name: 'GATEHOUSE_AUTH_FAILURES_PER_MINUTE',
    description:
      'Requests with an invalid credential (API key, session, access token; at /oauth: client secret, code or refresh token) one client address may send per minute before it gets 429 for the rest of the minute; 0 turns the limit off.',
    defaultText: '60',
    secret: false,
  },
  {
    name: 'GATEHOUSE_BODY_LIMIT_BYTES',
    description: 'Largest request body accepted on any route.',
    defaultText: '1048576',
    secret: false,
  },
];

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer between ${min} and ${max}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be an integer between ${min} and ${max}`);
  return value;
}

function parsePublicUrl(env: Env, port: number): string {
  // Unset: the local address this node listens on, so a first start on another port still
  // prints a setup link that works.
  const raw = env.GATEHOUSE_PUBLIC_URL || `http://localhost:${port === 0 ? 8080 : port}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Never echo the value: it may carry credentials.
    throw new ConfigError('GATEHOUSE_PUBLIC_URL', 'is not an absolute URL such as https://id.example.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('GATEHOUSE_PUBLIC_URL', 'must start with http:// or https://');
  }
  if (url.search || url.hash || url.username) {
    throw new ConfigError('GATEHOUSE_PUBLIC_URL', 'must not carry a query, fragment or credentials');
  }
  // One canonical form without a trailing slash, so issuers and redirect URIs compare exactly.
  return url.href.replace(/\/+$/, '');
}

function parseDatabase(env: Env, dataDir: string): DatabaseConfig {
  const raw = env.GATEHOUSE_DATABASE_URL;
  if (raw === undefined || raw === '') return { kind: 'sqlite', path: resolve(dataDir, 'gatehouse.db') };
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length);
    if (!path)
      throw new ConfigError(
        'GATEHOUSE_DATABASE_URL',
        'sqlite: needs a file path, e.g. sqlite:/var/lib/gh.db',
      );
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('GATEHOUSE_DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return {
      kind: 'postgres',
      url: raw,
      poolSize: integer(env, 'GATEHOUSE_DATABASE_POOL_SIZE', 10, 1, 200),
    };
  }
  // Never echo the value: it may hold a password.
  throw new ConfigError('GATEHOUSE_DATABASE_URL', 'must start with postgres://, postgresql:// or sqlite:');
}

function parseMasterKeySource(env: Env, database: DatabaseConfig, dataDir: string): MasterKeySource {
  const inline = env.GATEHOUSE_SECRET_KEY;
  const file = env.GATEHOUSE_SECRET_KEY_FILE;
  if (inline && file) {
    throw new ConfigError(
      'GATEHOUSE_SECRET_KEY',
      'set either GATEHOUSE_SECRET_KEY or GATEHOUSE_SECRET_KEY_FILE, not both',
    );
  }
  if (inline) {
    try {
      return { kind: 'provided', key: parseMasterKey(inline.trim()), from: 'GATEHOUSE_SECRET_KEY' };
    } catch {
      throw new ConfigError('GATEHOUSE_SECRET_KEY', 'must be 32 bytes encoded as base64');
    }
  }
  if (file) {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError('GATEHOUSE_SECRET_KEY_FILE', `cannot read ${file}`);
    }
    try {
      return { kind: 'provided', key: parseMasterKey(content.trim()), from: 'GATEHOUSE_SECRET_KEY_FILE' };
    } catch {
      throw new ConfigError('GATEHOUSE_SECRET_KEY_FILE', 'the file must hold 32 bytes encoded as base64');
    }
  }
  if (database.kind === 'postgres') {
    throw new ConfigError('GATEHOUSE_SECRET_KEY', 'is required with PostgreSQL (32 bytes, base64)');
  }
  return { kind: 'data_dir_file', path: resolve(dataDir, 'secret.key') };
}

function parseTrustProxy(env: Env): Config['trustProxy'] {
  const raw = (env.GATEHOUSE_TRUST_PROXY ?? '').trim();
  if (raw === '' || raw === 'false') return { enabled: false, addresses: [] };
  const addresses = raw.split(',').map((part) => part.trim());
  for (const address of addresses) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(address)) {
      throw new ConfigError('GATEHOUSE_TRUST_PROXY', `"${address}" is not an IP address or CIDR`);
    }
  }
  return { enabled: true, addresses };
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function parseClientMetadata(env: Env): Config['oauthClientMetadata'] {
  const hostsRaw = (env.GATEHOUSE_OAUTH_CLIENT_METADATA_HOSTS ?? '').trim();
  const allowedHosts = hostsRaw === '' ? [] : hostsRaw.split(',').map((host) => host.trim().toLowerCase());
  for (const host of allowedHosts) {
    if (!HOST_PATTERN.test(host))
      throw new ConfigError(
        'GATEHOUSE_OAUTH_CLIENT_METADATA_HOSTS',
        `"${host}" is not a host name or *.domain`,
      );
  }
  const insecureRaw = (env.GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE ?? '').trim();
  if (!['', 'true', 'false'].includes(insecureRaw))
    throw new ConfigError('GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE', 'must be true or false');
  return { allowedHosts, pinned: readPinnedDocuments(env), allowInsecure: insecureRaw === 'true' };
}

function readPinnedDocuments(env: Env): Map<string, Readonly<Record<string, unknown>>> {
  const name = 'GATEHOUSE_OAUTH_CLIENT_METADATA_PINNED';
  const path = (env[name] ?? '').trim();
  const pinned = new Map<string, Readonly<Record<string, unknown>>>();
  if (path === '') return pinned;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      name,
      `cannot be read as JSON (${(error as NodeJS.ErrnoException).code ?? 'invalid JSON'})`,
    );
  }
  const shapeError = 'must hold a JSON array of client metadata documents, each with its client_id URL';
  if (!Array.isArray(parsed)) throw new ConfigError(name, shapeError);
  for (const document of parsed) {
    const clientId = (document as { client_id?: unknown } | null)?.client_id;
    if (typeof document !== 'object' || document === null || typeof clientId !== 'string')
      throw new ConfigError(name, shapeError);
    pinned.set(clientId, Object.freeze({ ...(document as Record<string, unknown>) }));
  }
  return pinned;
}

const CACHE_MAX_ENTRIES = 100_000;

function parseCredentialCache(env: Env): Config['credentialCache'] {
  const seconds = integer(env, 'GATEHOUSE_CREDENTIAL_CACHE_SECONDS', 300, 0, 86_400);
  return {
    enabled: seconds > 0,
    ttlMs: seconds * 1000,
    maxEntries: CACHE_MAX_ENTRIES,
    // What is remembered as invalid (unknown, revoked, expired) can never become valid.
    negativeTtlMs: Math.max(seconds, 300) * 1000,
  };
}

function parseAuthFailureLimit(env: Env): Config['authFailureLimit'] {
  const perMinute = integer(env, 'GATEHOUSE_AUTH_FAILURES_PER_MINUTE', 60, 0, 1_000_000);
  return {
    enabled: perMinute > 0,
    maxFailures: perMinute,
    windowMs: 60_000,
    maxAddresses: CACHE_MAX_ENTRIES,
  };
}

export function loadConfig(env: Env = process.env): Config {
  const dataDirRaw = env.GATEHOUSE_DATA_DIR || './.gatehouse';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(dataDirRaw);
  const port = integer(env, 'GATEHOUSE_PORT', 8080, 0, 65535);
  const publicUrl = parsePublicUrl(env, port);
  const database = parseDatabase(env, dataDir);
  const logLevel = (env.GATEHOUSE_LOG_LEVEL || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('GATEHOUSE_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const host = env.GATEHOUSE_HOST || '127.0.0.1';
  if (!/^[0-9a-zA-Z.:\-[\]]+$/.test(host))
    throw new ConfigError('GATEHOUSE_HOST', 'is not a host name or address');
  return Object.freeze({
    publicUrl,
    host,
    port,
    dataDir,
    database: Object.freeze(database),
    masterKey: Object.freeze(parseMasterKeySource(env, database, dataDir)),
    logLevel,
    trustProxy: Object.freeze(parseTrustProxy(env)),
    bodyLimitBytes: integer(env, 'GATEHOUSE_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    secureCookies: publicUrl.startsWith('https:'),
    credentialCache: Object.freeze(parseCredentialCache(env)),
    ssoClockSkewSeconds: integer(env, 'GATEHOUSE_SSO_CLOCK_SKEW_SECONDS', 60, 0, 300),
    oauthKeyRotationDays: integer(env, 'GATEHOUSE_OAUTH_KEY_ROTATION_DAYS', 30, 0, 3650),
    oauthClientMetadata: Object.freeze(parseClientMetadata(env)),
    authFailureLimit: Object.freeze(parseAuthFailureLimit(env)),
  });
}

/** Warnings for unsafe-but-allowed settings, printed once at start-up. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.masterKey.kind === 'data_dir_file') {
    warnings.push(
      `GATEHOUSE_SECRET_KEY is unset: using a key generated into ${config.masterKey.path}; back it up or set the variable`,
    );
  }
  const publicUrl = new URL(config.publicUrl);
  if (publicUrl.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(publicUrl.hostname)) {
    warnings.push('GATEHOUSE_PUBLIC_URL is plain http on a non-loopback host: cookies are not marked Secure');
  }
  if (config.oauthClientMetadata.allowInsecure) {
    warnings.push(
      'GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE is on: client metadata documents are fetched over plain http and from loopback and private addresses (development only)',
    );
  }
  return warnings;
}

// ---- the client commands' environment ---------------------------------------------------------
// What `gatehouse auth …` and the other client commands read (SPEC §9): the GATEHOUSE_* values of
// the resolution rule, where the config file lives (XDG Base Directory), and what says whether a
// browser can be opened. Not server settings, so not in the table above or docs/configuration.md.

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
function variable(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function loadClientEnvironment(env: Env = process.env): ClientEnvironment {
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
