// `gatehouse auth token` (SPEC §9): a valid access token on stdout, for scripts
// (`curl -H "Authorization: Bearer $(gatehouse auth token)"`), refreshed first when it expires
// within a minute; its remaining lifetime on stderr.
import type { Command } from 'commander';
import { type ClientContext, type GlobalFlags, resolveConnection } from '../client/connection.ts';
import { describeLifetime } from '../client/lifetime.ts';
import { wantsJson } from '../output.ts';

export function registerAuthToken(auth: Command, context: ClientContext): void {
  auth
    .command('token')
    .description('print a valid access token (refreshed first if it is about to expire)')
    .action(async (_options: unknown, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      const token = await connection.bearer();
      const expiresAt = connection.expiresAt();
      if (wantsJson(command)) {
        process.stdout.write(
          `${JSON.stringify({ token, method: connection.method, expires_at: expiresAt ?? null })}\n`,
        );
        return;
      }
      process.stdout.write(`${token}\n`);
      process.stderr.write(
        expiresAt === undefined
          ? `an API key (${connection.source}): it lasts until it is revoked or reaches its own expiry\n`
          : `expires in ${describeLifetime(Date.parse(expiresAt) - Date.now())} (${expiresAt})\n`,
      );
    });
}
