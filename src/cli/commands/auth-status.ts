// `gatehouse auth status` (SPEC §9): who the resolved credential signs in as, at which server,
// with which org and project, how, and until when. The server is asked, so a credential it no
// longer accepts shows as such (exit 3).
import type { Command } from 'commander';
import { type ClientContext, type GlobalFlags, resolveConnection } from '../client/connection.ts';
import { describeLifetime } from '../client/lifetime.ts';
import type { Me } from '../client/me.ts';
import { printResult } from '../output.ts';

export function registerAuthStatus(auth: Command, context: ClientContext): void {
  auth
    .command('status')
    .description('show who you are signed in as, where, and until when')
    .action(async (_options: unknown, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      const me = await connection.call<Me>({ method: 'GET', path: '/v1/me' });
      const org = await connection.orgIfKnown();
      const expiresAt = connection.expiresAt();
      const who = me.user
        ? `${me.user.email} (${me.principal.kind} ${me.principal.id})`
        : `${me.principal.kind} ${me.principal.id}`;
      const lines = [
        `Server:   ${connection.server}`,
        `Profile:  ${connection.profileName ?? `none (${connection.source})`}`,
        `Who:      ${who}`,
        `Method:   ${connection.method === 'oauth' ? 'OAuth (browser or device sign-in)' : 'API key'}`,
        `Org:      ${org ?? 'none chosen'}`,
        `Project:  ${connection.project ?? 'none chosen'}`,
        `Expires:  ${expiresAt === undefined ? 'when the key is revoked or reaches its own expiry' : `${expiresAt} (in ${describeLifetime(Date.parse(expiresAt) - Date.now())}; refreshed on use)`}`,
      ];
      printResult(
        command,
        {
          server: connection.server,
          profile: connection.profileName ?? null,
          source: connection.source,
          method: connection.method,
          principal: me.principal,
          email: me.user?.email ?? null,
          org: org ?? null,
          project: connection.project ?? null,
          expires_at: expiresAt ?? null,
        },
        lines.join('\n'),
      );
    });
}
