// `gatehouse auth logout [--all]` (SPEC §9): revokes the profile's refresh token at the server
// (RFC 7009, which ends the whole grant and with it the access tokens), then forgets the
// profile. When the server cannot be told, the profile is kept and the command fails: a
// credential forgotten here but alive there is the worse outcome. An API key stays valid
// until revoked with `gatehouse keys revoke`; the command says so.
import type { Command } from 'commander';
import type { ProfileEntry } from '../client/config-file.ts';
import {
  type ClientContext,
  type GlobalFlags,
  selectedProfileName,
  serverOfProfile,
} from '../client/connection.ts';
import { connectClient, revokeRefreshToken } from '../client/oauth.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { printResult } from '../output.ts';

async function revokeAtServer(profile: ProfileEntry): Promise<'revoked' | 'api_key' | 'nothing'> {
  const credential = profile.credential;
  if (credential.method === 'api_key') return 'api_key';
  if (credential.refresh_token === undefined) return 'nothing';
  const server = serverOfProfile(profile);
  const configuration = await connectClient(server, credential.client_id);
  await revokeRefreshToken(configuration, server, credential.refresh_token);
  return 'revoked';
}

const SAID = {
  revoked: 'signed out; its refresh token was revoked at the server',
  api_key: 'forgotten; the API key itself still works until revoked (`gatehouse keys revoke`)',
  nothing: 'forgotten',
} as const;

/**
 * Revokes and forgets one profile, under the lock: a refresh by another process would
 * otherwise rotate the token being revoked, and the fresh one would live on.
 */
function signOut(context: ClientContext, profileName: string): Promise<keyof typeof SAID> {
  return context.store.update(async (current) => {
    const profile = current.profiles[profileName];
    if (profile === undefined) return { result: 'nothing' as const };
    const result = await revokeAtServer(profile);
    const { [profileName]: _removed, ...profiles } = current.profiles;
    const default_profile = current.default_profile === profileName ? undefined : current.default_profile;
    return { config: { ...current, profiles, default_profile }, result };
  });
}

export function registerAuthLogout(auth: Command, context: ClientContext): void {
  auth
    .command('logout')
    .description('revoke the sign-in at the server, then forget the profile')
    .option('--all', 'sign out of every profile')
    .action(async (options: { all?: boolean }, command: Command) => {
      const flags = command.optsWithGlobals<GlobalFlags>();
      if (flags.apiKey !== undefined)
        throw new CliError(
          'logout forgets saved profiles; a key given with --api-key is not saved (revoke it with `gatehouse keys revoke`)',
          exitCodes.usage,
        );
      const config = context.store.read();
      const names = options.all
        ? Object.keys(config.profiles)
        : [selectedProfileName(context, flags, config)];
      const name = names[0];
      if (!options.all && (name === undefined || config.profiles[name] === undefined))
        throw new CliError(
          name === undefined
            ? 'not signed in: there is no profile to sign out of'
            : `no profile named "${name}"`,
          exitCodes.unauthenticated,
        );
      const outcomes: { profile: string; outcome: keyof typeof SAID | 'failed'; error?: string }[] = [];
      for (const profileName of names as string[]) {
        // One profile: its failure is the command's. --all: each on its own, so a server that
        // cannot be reached keeps its profile and the others are still signed out.
        if (!options.all)
          outcomes.push({ profile: profileName, outcome: await signOut(context, profileName) });
        else
          await signOut(context, profileName).then(
            (outcome) => outcomes.push({ profile: profileName, outcome }),
            (error: Error) =>
              outcomes.push({ profile: profileName, outcome: 'failed', error: error.message }),
          );
      }
      const failed = outcomes.filter((o) => o.outcome === 'failed');
      printResult(
        command,
        { signed_out: outcomes },
        outcomes.length === 0
          ? 'No profiles to sign out of.'
          : outcomes
              .map(({ profile, outcome, error }) =>
                outcome === 'failed'
                  ? `Profile "${profile}" kept: ${error}`
                  : `Profile "${profile}" ${SAID[outcome]}.`,
              )
              .join('\n'),
      );
      if (failed.length > 0) process.exitCode = exitCodes.error;
    });
}
