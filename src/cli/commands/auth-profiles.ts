// `gatehouse auth profiles` (SPEC §9): the saved profiles, and `use NAME` to choose the
// default one.
import type { Command } from 'commander';
import { type ClientContext, type GlobalFlags, selectedProfileName } from '../client/connection.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { formatTable, printResult } from '../output.ts';

export function registerAuthProfiles(auth: Command, context: ClientContext): void {
  const profiles = auth
    .command('profiles')
    .description('list saved profiles (`use NAME` sets the default)')
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<GlobalFlags>();
      const config = context.store.read();
      // A key from --api-key or GATEHOUSE_API_KEY wins over every profile: none is in use then.
      const keyInUse = flags.apiKey !== undefined || context.env.apiKey !== undefined;
      const active = keyInUse ? undefined : selectedProfileName(context, flags, config);
      const list = Object.entries(config.profiles).map(([name, profile]) => ({
        name,
        default: config.default_profile === name,
        active: active === name,
        url: profile.url,
        method: profile.credential.method,
        who: profile.subject?.email ?? profile.subject?.id ?? null,
        org: profile.org ?? null,
        project: profile.project ?? null,
      }));
      printResult(
        command,
        { data: list },
        formatTable(
          ['', 'PROFILE', 'SERVER', 'METHOD', 'WHO', 'ORG'],
          list.map((p) => [
            p.active ? '*' : '',
            p.name + (p.default ? ' (default)' : ''),
            p.url,
            p.method,
            p.who ?? '',
            p.org ?? '',
          ]),
          'No profiles: sign in with `gatehouse auth login`.',
        ),
      );
    });
  profiles
    .command('use')
    .argument('<name>', 'the profile to make the default')
    .description('make a profile the default')
    .action(async (name: string, _options: unknown, command: Command) => {
      await context.store.update(async (config) => {
        if (config.profiles[name] === undefined)
          throw new CliError(
            `no profile named "${name}" (profiles: ${Object.keys(config.profiles).join(', ') || 'none'})`,
            exitCodes.usage,
          );
        return { config: { ...config, default_profile: name }, result: undefined };
      });
      printResult(command, { default_profile: name }, `Profile "${name}" is now the default.`);
    });
}
