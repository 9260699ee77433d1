import type { Command } from 'commander';
import { isGatehouseError } from '../../core/errors.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { withOperatorServices } from '../operator.ts';
import { printResult } from '../output.ts';
import { readSecret } from '../prompt.ts';

interface AdminCreateOptions {
  email: string;
  name?: string;
  orgName?: string;
}

// The input fields that come from a flag are named as that flag; the password (prompt or
// stdin) is named plainly, since there is no --password to fix.
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  email: '--email',
  org: '--org',
  org_slug: '--org',
  name: '--name',
  org_name: '--org-name',
};

function fieldPrefix(field: string | undefined): string {
  if (!field) return '';
  return `${FLAG_OF_FIELD[field] ?? field}: `;
}

export function registerAdminCreate(program: Command): void {
  const admin = program.command('admin').description('operator commands for administrators');
  admin
    .command('create')
    .description(
      'make EMAIL an admin of org SLUG (the global --org flag), creating the user and the org if missing (password from a prompt or stdin)',
    )
    .requiredOption('--email <email>', 'the admin’s email address')
    .option('--name <name>', 'the admin’s display name (new users)')
    .option('--org-name <name>', 'the organization’s display name (new orgs)')
    .action(async (options: AdminCreateOptions, command: Command) => {
      // --org is a global flag (SPEC §9: declared once on the program, never re-declared).
      const orgSlug = command.optsWithGlobals<{ org?: string }>().org;
      if (!orgSlug) throw new CliError('admin create needs --org <slug>', exitCodes.usage);
      const result = await withOperatorServices({ requireCurrentSchema: false }, async (services) => {
        await services.database.migrateToLatest();
        const ctx = services.systemContext('cli-admin-create');
        const existing = await services.tenancy.findUserForSignIn(ctx, options.email);
        const password = existing ? undefined : await readSecret('Password for the new admin: ');
        try {
          return await services.bootstrap.createAdmin(ctx, {
            email: options.email,
            name: options.name,
            password,
            orgSlug,
            orgName: options.orgName,
          });
        } catch (error) {
          if (isGatehouseError(error) && error.status < 500) {
            throw new CliError(`${fieldPrefix(error.field)}${error.message}`, exitCodes.error);
          }
          throw error;
        }
      });
      printResult(
        command,
        {
          user_id: result.userId,
          org_id: result.orgId,
          created_user: result.createdUser,
          created_org: result.createdOrg,
        },
        `${options.email} is an admin of ${orgSlug}${result.createdUser ? ' (new user)' : ''}${result.createdOrg ? ' (new org)' : ''}`,
      );
    });
}
