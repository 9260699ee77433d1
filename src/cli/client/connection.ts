// The one resolution rule of SPEC §9, for every client command: the credential comes from
// `--api-key` > GATEHOUSE_API_KEY > `--profile` / GATEHOUSE_PROFILE > the default profile; the
// org from `--org` > GATEHOUSE_ORG > the profile > the one org an API key is bound to; the
// project from `--project` > GATEHOUSE_PROJECT > the profile. Nothing is guessed: a missing or
// conflicting value is an error naming the flag or variable to set. Commands get a
// Connection and never look at what kind of credential is behind it.

import type { ClientEnvironment } from '../../config.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { readSecret } from '../prompt.ts';
import { type ApiRequest, callApi } from './api.ts';
import type { ConfigData, ConfigStore, OauthCredential, ProfileEntry } from './config-file.ts';
import { connectClient, normaliseServerUrl, refreshCredential } from './oauth.ts';

/** The global flags (declared once on the program). `apiKey: true` is a bare `--api-key`. */
export interface GlobalFlags {
  readonly url?: string;
  readonly profile?: string;
  readonly org?: string;
  readonly project?: string;
  readonly apiKey?: string | true;
  readonly json?: boolean;
}

export interface ClientContext {
  readonly env: ClientEnvironment;
  readonly store: ConfigStore;
}

/** An access token this close to its expiry is refreshed before use. */
const REFRESH_MARGIN_MS = 60_000;

export interface Connection {
  readonly server: string;
  /** Where the credential came from, for messages: `--api-key`, `profile "work"`. */
  readonly source: string;
  readonly profileName: string | undefined;
  /** What the credential is, for `auth status` and `auth token` to report (never to branch on). */
  readonly method: 'oauth' | 'api_key';
  /** When the access token in use expires (after bearer()); undefined for API keys. */
  expiresAt(): string | undefined;
  /** A bearer credential valid for at least a minute (refreshed first when needed). */
  bearer(): Promise<string>;
  /** The org to act in (its slug or id); an error naming --org / GATEHOUSE_ORG when none is set. */
  org(): Promise<string>;
  /** The org if one is set or implied, else undefined (for `status`, `whoami`). */
  orgIfKnown(): Promise<string | undefined>;
  readonly project: string | undefined;
  call<T>(request: ApiRequest): Promise<T>;
}

/** The profile a command uses, by the rule; undefined when none is named and there is no default. */
export function selectedProfileName(
  context: ClientContext,
  flags: GlobalFlags,
  config: ConfigData,
): string | undefined {
  return flags.profile ?? context.env.profile ?? config.default_profile;
}

function profileSource(flags: GlobalFlags, context: ClientContext): string {
  if (flags.profile !== undefined) return '--profile';
  if (context.env.profile !== undefined) return 'GATEHOUSE_PROFILE';
  return 'the default profile';
}

/** The key a `--api-key` flag stands for: its value, or (bare) what the prompt or stdin gives. */
export async function keyOfFlag(flag: string | true): Promise<string> {
  const key = flag === true ? (await readSecret('API key: ')).trim() : flag.trim();
  if (!key) throw new CliError('no API key was given (on the prompt, stdin or --api-key)', exitCodes.usage);
  return key;
}

async function apiKeyFrom(
  flags: GlobalFlags,
  context: ClientContext,
): Promise<{ key: string; source: string } | undefined> {
  if (flags.apiKey !== undefined) return { key: await keyOfFlag(flags.apiKey), source: '--api-key' };
  if (context.env.apiKey !== undefined) return { key: context.env.apiKey, source: 'GATEHOUSE_API_KEY' };
  return undefined;
}

/** The server named by `--url` / GATEHOUSE_URL, checked; undefined when neither is set. */
export function explicitServer(flags: GlobalFlags, context: ClientContext): string | undefined {
  if (flags.url !== undefined) return normaliseServerUrl(flags.url, '--url');
  if (context.env.url !== undefined) return normaliseServerUrl(context.env.url, 'GATEHOUSE_URL');
  return undefined;
}

function requireProfile(
  context: ClientContext,
  flags: GlobalFlags,
  config: ConfigData,
): [string, ProfileEntry] {
  const name = selectedProfileName(context, flags, config);
  if (name === undefined) {
    if (Object.keys(config.profiles).length === 0)
      throw new CliError(
        'not signed in: run `gatehouse auth login` (or pass --api-key, or set GATEHOUSE_API_KEY)',
        exitCodes.unauthenticated,
      );
    throw new CliError(
      `no default profile: pass --profile or set GATEHOUSE_PROFILE (profiles: ${Object.keys(config.profiles).join(', ')}), or choose one with \`gatehouse auth profiles use NAME\``,
      exitCodes.usage,
    );
  }
  const profile = config.profiles[name];
  if (profile === undefined)
    throw new CliError(
      `no profile named "${name}" (from ${profileSource(flags, context)}); sign in to it with \`gatehouse auth login --profile ${name}\``,
      exitCodes.unauthenticated,
    );
  return [name, profile];
}

/** A server named alongside a profile must be the profile's: no silent switch to another. */
function checkSameServer(
  flags: GlobalFlags,
  stated: string | undefined,
  name: string,
  profile: ProfileEntry,
): void {
  if (stated === undefined || stated === profile.url) return;
  throw new CliError(
    `${flags.url !== undefined ? '--url' : 'GATEHOUSE_URL'} is ${stated}, but profile "${name}" is for ${profile.url}; drop it, or pick the profile for that server with --profile`,
    exitCodes.usage,
  );
}

/** The connection for this command, by the rule above. */
export async function resolveConnection(context: ClientContext, flags: GlobalFlags): Promise<Connection> {
  const key = await apiKeyFrom(flags, context);
  const named = flags.profile ?? context.env.profile;
  if (key !== undefined) {
    // The key's server: stated, or the profile stated alongside; never the default profile's,
    // which may be another server the key was not made for. The config file is read only
    // for that profile, so a key and a URL in CI work whatever the file holds.
    const stated = explicitServer(flags, context);
    const [, profile] = named === undefined ? [] : requireProfile(context, flags, context.store.read());
    if (named !== undefined && profile !== undefined) checkSameServer(flags, stated, named, profile);
    const server = stated ?? profile?.url;
    if (server === undefined)
      throw new CliError(
        `a key from ${key.source} needs the server: pass --url or set GATEHOUSE_URL`,
        exitCodes.usage,
      );
    return buildConnection(context, {
      server,
      source: key.source,
      profileName: undefined,
      method: 'api_key',
      expiresAt: () => undefined,
      bearer: async () => key.key,
      flags,
      savedOrg: profile?.org,
      savedProject: profile?.project,
      boundToOneOrg: true,
    });
  }
  const [name, profile] = requireProfile(context, flags, context.store.read());
  checkSameServer(flags, explicitServer(flags, context), name, profile);
  /** The credential as last read or refreshed: the file is read again only to refresh. */
  let credential = profile.credential;
  const source = `profile "${name}"`;
  return buildConnection(context, {
    server: profile.url,
    source,
    profileName: name,
    method: profile.credential.method,
    expiresAt: () => (credential.method === 'oauth' ? credential.expires_at : undefined),
    bearer: async () => {
      credential = await freshCredential(context, name, credential);
      return credential.method === 'api_key' ? credential.api_key : credential.access_token;
    },
    flags,
    savedOrg: profile.org,
    savedProject: profile.project,
    boundToOneOrg: profile.credential.method === 'api_key',
  });
}

interface ConnectionParts {
  readonly server: string;
  readonly source: string;
  readonly profileName: string | undefined;
  readonly method: Connection['method'];
  readonly expiresAt: () => string | undefined;
  readonly bearer: () => Promise<string>;
  readonly flags: GlobalFlags;
  readonly savedOrg: string | undefined;
  readonly savedProject: string | undefined;
  /** API keys belong to one org (SPEC §2): that org is the default, asked of the server. */
  readonly boundToOneOrg: boolean;
}

function buildConnection(context: ClientContext, parts: ConnectionParts): Connection {
  const call = async <T>(request: ApiRequest): Promise<T> =>
    callApi<T>(parts.server, await parts.bearer(), request, parts.source);
  const statedOrg = parts.flags.org ?? context.env.org ?? parts.savedOrg;
  let boundOrg: Promise<string | undefined> | undefined;
  const orgIfKnown = async (): Promise<string | undefined> => {
    if (statedOrg !== undefined) return statedOrg;
    if (!parts.boundToOneOrg) return undefined;
    boundOrg ??= call<{ data: { slug: string }[] }>({ method: 'GET', path: '/v1/orgs' }).then((answer) =>
      answer.data.length === 1 ? answer.data[0]!.slug : undefined,
    );
    return boundOrg;
  };
  return {
    server: parts.server,
    source: parts.source,
    profileName: parts.profileName,
    method: parts.method,
    expiresAt: parts.expiresAt,
    bearer: parts.bearer,
    project: parts.flags.project ?? context.env.project ?? parts.savedProject,
    orgIfKnown,
    org: async () => {
      const org = await orgIfKnown();
      if (org === undefined)
        throw new CliError(
          'no organization chosen: pass --org or set GATEHOUSE_ORG (or save one with `gatehouse auth login --org SLUG`)',
          exitCodes.usage,
        );
      return org;
    },
    call,
  };
}

function isFresh(credential: OauthCredential, now: number): boolean {
  return Date.parse(credential.expires_at) - now > REFRESH_MARGIN_MS;
}

/**
 * The profile's credential, refreshed first when its access token expires within a minute.
 * `known` is what this process read; the refresh runs under the config file's lock and
 * re-reads the file inside it: of many processes finding the token stale, the first
 * refreshes and the rest use what it saved, so a rotated refresh token is never presented
 * twice (which the server would treat as replay and answer by revoking the grant).
 */
async function freshCredential(
  context: ClientContext,
  name: string,
  known: ProfileEntry['credential'],
): Promise<ProfileEntry['credential']> {
  if (known.method === 'api_key' || isFresh(known, Date.now())) return known;
  return context.store.update(async (config) => {
    const profile = config.profiles[name];
    if (profile === undefined)
      throw new CliError(`profile "${name}" was removed (signed out) meanwhile`, exitCodes.unauthenticated);
    const current = profile.credential;
    if (current.method === 'api_key' || isFresh(current, Date.now())) return { result: current };
    const server = serverOfProfile(profile);
    const configuration = await connectClient(server, current.client_id);
    const renewed = await refreshCredential(configuration, server, current);
    const profiles = {
      ...config.profiles,
      [name]: { ...profile, credential: renewed, saved_at: new Date().toISOString() },
    };
    return { config: { ...config, profiles }, result: renewed };
  });
}

/** The server a profile was saved for; its issuer was recorded at login. */
export function serverOfProfile(profile: ProfileEntry) {
  if (profile.issuer === undefined)
    throw new CliError(`the profile for ${profile.url} records no issuer; sign in again`);
  return { url: profile.url, resource: `${profile.url}/v1`, issuer: profile.issuer, scopes: [] as string[] };
}
