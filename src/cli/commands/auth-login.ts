// `gatehouse auth login` (SPEC §9): signs in to a server and saves the result as a profile.
// The browser with a loopback redirect by default; a device code with --device, or when no
// browser can be opened here; an API key with --api-key (a hidden prompt, or stdin when it is
// not a terminal), checked against the server before it is saved.
import type { Command } from 'commander';
import { type ApiRequest, callApi } from '../client/api.ts';
import {
  type ConfigData,
  type OauthCredential,
  PROFILE_NAME,
  type ProfileEntry,
} from '../client/config-file.ts';
import { type ClientContext, explicitServer, type GlobalFlags, keyOfFlag } from '../client/connection.ts';
import type { Me } from '../client/me.ts';
import { discoverServer, type GatehouseServer } from '../client/oauth.ts';
import { fetchAllPages } from '../client/pages.ts';
import { registeredClient } from '../client/registration.ts';
import { signInWithBrowser, signInWithDeviceCode } from '../client/sign-in.ts';
import { noBrowserReason } from '../client/system-browser.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { printResult, tell } from '../output.ts';

interface LoginOptions {
  readonly device?: boolean;
  /** false with --no-browser. */
  readonly browser: boolean;
  readonly timeout: string;
}

interface Project {
  id: string;
  name: string;
}

/** What the login is asked to do, every flag checked before anything is sent anywhere. */
interface LoginPlan {
  readonly profile: string;
  readonly url: string;
  readonly timeoutMs: number;
}

function planLogin(
  context: ClientContext,
  flags: GlobalFlags,
  options: LoginOptions,
  config: ConfigData,
): LoginPlan {
  const named = flags.profile ?? context.env.profile;
  const profile = named ?? config.default_profile ?? 'default';
  if (!PROFILE_NAME.test(profile))
    throw new CliError(
      `--profile must be letters, digits, ".", "_" or "-" (at most 64), not ${JSON.stringify(profile)}`,
      exitCodes.usage,
    );
  const seconds = Number(options.timeout);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)
    throw new CliError('--timeout must be a whole number of seconds from 1 to 3600', exitCodes.usage);
  if (flags.apiKey !== undefined && (options.device || !options.browser))
    throw new CliError(
      '--api-key signs in with a key: it does not go with --device or --no-browser',
      exitCodes.usage,
    );
  const saved = config.profiles[profile]?.url;
  const stated = explicitServer(flags, context);
  // Signing in to another server under the default profile's name would silently replace it.
  if (named === undefined && saved !== undefined && stated !== undefined && stated !== saved)
    throw new CliError(
      `the default profile "${profile}" is for ${saved}; to sign in to ${stated}, name a profile for it with --profile`,
      exitCodes.usage,
    );
  const url = stated ?? saved;
  if (url === undefined)
    throw new CliError('which server? pass --url (its public URL) or set GATEHOUSE_URL', exitCodes.usage);
  return { profile, url, timeoutMs: seconds * 1000 };
}

async function signInWithOauth(
  context: ClientContext,
  server: GatehouseServer,
  options: LoginOptions,
  timeoutMs: number,
): Promise<OauthCredential> {
  const configuration = await registeredClient(context.store, server);
  if (options.device) return signInWithDeviceCode(configuration, server, { timeoutMs });
  if (options.browser) {
    const reason = noBrowserReason(context.env.browser);
    if (reason !== undefined) {
      tell(`No browser can be opened here (${reason}): signing in with a device code instead.`);
      return signInWithDeviceCode(configuration, server, { timeoutMs });
    }
  }
  return signInWithBrowser(configuration, server, options.browser ? context.env.browser : undefined, {
    timeoutMs,
  });
}

/** The org and project to save: given ones are checked against the server; one org is taken as the default. */
async function defaultsFor(call: <T>(request: ApiRequest) => Promise<T>, me: Me, flags: GlobalFlags) {
  let org: Me['orgs'][number] | undefined;
  if (flags.org !== undefined) {
    org = me.orgs.find((candidate) => candidate.slug === flags.org || candidate.id === flags.org);
    if (org === undefined)
      throw new CliError(
        `--org ${flags.org}: this account is not a member of that organization (its orgs: ${me.orgs.map((o) => o.slug).join(', ') || 'none'})`,
      );
  } else if (me.orgs.length === 1) org = me.orgs[0];
  let project: Project | undefined;
  if (flags.project !== undefined) {
    if (org === undefined)
      throw new CliError('--project needs an organization: pass --org too', exitCodes.usage);
    const projects = await fetchAllPages<Project>(call, `/v1/orgs/${encodeURIComponent(org.slug)}/projects`);
    project = projects.find(
      (candidate) => candidate.name === flags.project || candidate.id === flags.project,
    );
    if (project === undefined)
      throw new CliError(`--project ${flags.project}: no such project in ${org.slug}`);
  }
  return { org, project };
}

export function registerAuthLogin(auth: Command, context: ClientContext): void {
  auth
    .command('login')
    .description('sign in to a Gatehouse server and save the credential as a profile')
    .option('--device', 'sign in with a device code, on any device with a browser')
    .option('--no-browser', 'do not open a browser; print the URL to open instead')
    .option('--timeout <seconds>', 'how long to wait for the sign-in to finish', '300')
    .action(async (options: LoginOptions, command: Command) => {
      const flags = command.optsWithGlobals<GlobalFlags>();
      const plan = planLogin(context, flags, options, context.store.read());
      const apiKey = flags.apiKey === undefined ? undefined : await keyOfFlag(flags.apiKey);
      const server = await discoverServer(plan.url);
      const credential: ProfileEntry['credential'] =
        apiKey === undefined
          ? await signInWithOauth(context, server, options, plan.timeoutMs)
          : { method: 'api_key', api_key: apiKey };
      const bearer = credential.method === 'api_key' ? credential.api_key : credential.access_token;
      const call = <T>(request: ApiRequest) => callApi<T>(server.url, bearer, request, 'the new sign-in');
      // A failure from here on saves nothing; the tokens then exist only in this process.
      const me = await call<Me>({ method: 'GET', path: '/v1/me' });
      const { org, project } = await defaultsFor(call, me, flags);
      const entry: ProfileEntry = {
        url: server.url,
        issuer: server.issuer,
        credential,
        ...(org ? { org: org.slug } : {}),
        ...(project ? { project: project.name } : {}),
        subject: {
          kind: me.principal.kind,
          id: me.principal.id,
          ...(me.user ? { email: me.user.email } : {}),
        },
        saved_at: new Date().toISOString(),
      };
      const name = plan.profile;
      const becameDefault = await context.store.update(async (current) => {
        const isDefault = current.default_profile === undefined || current.default_profile === name;
        return {
          config: {
            ...current,
            default_profile: isDefault ? name : current.default_profile,
            profiles: { ...current.profiles, [name]: entry },
          },
          result: isDefault,
        };
      });
      const who = me.user?.email ?? `${me.principal.kind} ${me.principal.id}`;
      const orgNote = org
        ? `; org ${org.slug}`
        : me.orgs.length > 1
          ? `; ${me.orgs.length} orgs: choose one with --org or GATEHOUSE_ORG`
          : '';
      printResult(
        command,
        {
          profile: name,
          default: becameDefault,
          url: server.url,
          method: credential.method,
          principal: me.principal,
          email: me.user?.email ?? null,
          org: org?.slug ?? null,
          project: project?.name ?? null,
          expires_at: credential.method === 'oauth' ? credential.expires_at : null,
        },
        `Signed in to ${server.url} as ${who} (profile "${name}"${becameDefault ? ', the default' : ''}${orgNote}).`,
      );
    });
}
