// `gatehouse projects list|create`: the projects of the org the resolution rule picked.
import type { Command } from 'commander';
import { type ClientContext, type GlobalFlags, resolveConnection } from '../client/connection.ts';
import { fetchAllPages, orgPath } from '../client/pages.ts';
import { formatTable, printResult } from '../output.ts';

interface Project {
  id: string;
  name: string;
  description: string;
  created_at: string;
}

export function registerProjects(program: Command, context: ClientContext): void {
  const projects = program.command('projects').description("the organization's projects");
  projects
    .command('list')
    .description('list the projects of the organization')
    .action(async (_options: unknown, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      const data = await fetchAllPages<Project>(connection.call, `${await orgPath(connection)}/projects`);
      const current = connection.project;
      printResult(
        command,
        { data },
        formatTable(
          ['', 'NAME', 'ID', 'CREATED', 'DESCRIPTION'],
          data.map((p) => [
            p.name === current || p.id === current ? '*' : '',
            p.name,
            p.id,
            p.created_at,
            p.description,
          ]),
          `No projects in ${await connection.org()}.`,
        ),
      );
    });
  projects
    .command('create')
    .argument('<name>', 'the new project’s name')
    .option('--description <text>', 'what the project is for')
    .description('create a project in the organization')
    .action(async (name: string, options: { description?: string }, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      const created = await connection.call<Project>({
        method: 'POST',
        path: `${await orgPath(connection)}/projects`,
        body: { name, ...(options.description === undefined ? {} : { description: options.description }) },
      });
      printResult(
        command,
        created,
        `Created project ${created.name} (${created.id}) in ${await connection.org()}.`,
      );
    });
}
