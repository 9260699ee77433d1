// `gatehouse whoami`: the principal behind the resolved credential, as the server sees it.
import type { Command } from 'commander';
import { type ClientContext, type GlobalFlags, resolveConnection } from '../client/connection.ts';
import type { Me } from '../client/me.ts';
import { printResult } from '../output.ts';

export function registerWhoami(program: Command, context: ClientContext): void {
  program
    .command('whoami')
    .description('show who the current credential acts as, and in which orgs')
    .action(async (_options: unknown, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      const me = await connection.call<Me>({ method: 'GET', path: '/v1/me' });
      const org = await connection.orgIfKnown();
      const name = me.user ? `${me.user.name} <${me.user.email}>` : `${me.principal.kind} ${me.principal.id}`;
      const orgs = me.orgs.map((o) => `${o.slug === org || o.id === org ? '*' : ' '} ${o.slug} (${o.role})`);
      printResult(
        command,
        { ...me, server: connection.server, org: org ?? null, project: connection.project ?? null },
        [
          `${name}`,
          `${me.principal.kind} ${me.principal.id}, by ${me.principal.auth_method}, at ${connection.server}`,
          ...(orgs.length ? ['orgs:', ...orgs] : ['no orgs']),
        ].join('\n'),
      );
    });
}
