import type { Command } from 'commander';
import { isGatehouseError } from '../../core/errors.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { withOperatorServices } from '../operator.ts';
import { printResult } from '../output.ts';
import { readSecret } from '../prompt.ts';

interface AdminCreateOptions {
  email: string;
  org: string;
  name?: string;
  orgName?: string;
}

export function registerAdminCreate(program: Command): void {
  const admin = program.command('admin').description('operator commands for administrators');
  admin
    .command('create')
    .description(
      'make EMAIL an admin of org SLUG, creating the user and the org if missing (password from a prompt or stdin)',
    )
    .requiredOption('--email <email>', 'the admin’s email address')
    .requiredOption('--org <slug>', 'the organization slug')
    .option('--name <name>', 'the admin’s display name (new users)')
    .option('--org-name <name>', 'the organization’s display name (new orgs)')
    .action(async (options: AdminCreateOptions, command: Command) => {
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
            orgSlug: options.org,
            orgName: options.orgName,
          });
        } catch (error) {
          if (isGatehouseError(error) && error.status < 500) {
            throw new CliError(
              `${error.field ? `--${error.field.replace(/_/g, '-')}: ` : ''}${error.message}`,
              exitCodes.error,
            );
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
        `${options.email} is an admin of ${options.org}${result.createdUser ? ' (new user)' : ''}${result.createdOrg ? ' (new org)' : ''}`,
      );
    });
}
