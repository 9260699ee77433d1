// `gatehouse orgs list`: the organizations the credential reaches, with its role in each.
import type { Command } from 'commander';
import { type ClientContext, type GlobalFlags, resolveConnection } from '../client/connection.ts';
import { formatTable, printResult } from '../output.ts';

interface Org {
  id: string;
  slug: string;
  name: string;
  role: string;
}

export function registerOrgs(program: Command, context: ClientContext): void {
  const orgs = program.command('orgs').description('organizations');
  orgs
    .command('list')
    .description('list the organizations you belong to')
    .action(async (_options: unknown, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      const { data } = await connection.call<{ data: Org[] }>({ method: 'GET', path: '/v1/orgs' });
      const current = await connection.orgIfKnown();
      printResult(
        command,
        { data },
        formatTable(
          ['', 'SLUG', 'NAME', 'ROLE', 'ID'],
          data.map((o) => [o.slug === current || o.id === current ? '*' : '', o.slug, o.name, o.role, o.id]),
          'No organizations.',
        ),
      );
    });
}
