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

/** The same bounds as `name` on POST /v1/orgs/:org/api-keys. */
const MAX_API_KEY_NAME_LENGTH = 200;

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

/** Checked before the database is touched, so a bad name is a usage error that creates nothing. */
function checkApiKeyName(name: string | true | undefined): string | undefined {
  if (name === undefined) return undefined;
  // A bare --api-key (which client commands read as "prompt for the key") names nothing here.
  if (name === true || name.trim() === '')
    throw new CliError('--api-key: the key name must not be empty', exitCodes.usage);
  if (name.length > MAX_API_KEY_NAME_LENGTH)
    throw new CliError(
      `--api-key: the key name must be at most ${MAX_API_KEY_NAME_LENGTH} characters (got ${name.length})`,
      exitCodes.usage,
    );
  return name;
}

const HELP_AFTER = `
With --api-key NAME, the command also creates an API key called NAME for the admin in that
org, in the same transaction, and prints it once on stdout (with --json as api_key.token),
so an automated install can configure everything else over /v1. For client commands the
global --api-key flag is a key to authenticate with; for this command it is the name of the
key to create.`;

export function registerAdminCreate(admin: Command): void {
  admin
    .command('create')
    .description(
      'make EMAIL an admin of org SLUG (the global --org flag), creating the user and the org if missing (password from a prompt or stdin); with --api-key NAME, also print a new API key for them',
    )
    .requiredOption('--email <email>', 'the admin’s email address')
    .option('--name <name>', 'the admin’s display name (new users)')
    .option('--org-name <name>', 'the organization’s display name (new orgs)')
    .addHelpText('after', HELP_AFTER)
    .action(async (options: AdminCreateOptions, command: Command) => {
      // --org and --api-key are global flags (SPEC §9: declared once on the program, never
      // re-declared); here --api-key names the key to create (see the help text).
      const globals = command.optsWithGlobals<{ org?: string; apiKey?: string | true }>();
      const orgSlug = globals.org;
      if (!orgSlug) throw new CliError('admin create needs --org <slug>', exitCodes.usage);
      const apiKeyName = checkApiKeyName(globals.apiKey);
      const [{ hashPassword }, { withTx }, { checkPassword }] = await Promise.all([
        import('../../core/passwords.ts'),
        import('../../db/index.ts'),
        import('../../tenancy/index.ts'),
      ]);
      const result = await withOperatorServices({ requireCurrentSchema: false }, async (services) => {
        await services.database.migrateToLatest();
        const ctx = services.systemContext('cli-admin-create');
        const existing = await services.tenancy.findUserForSignIn(ctx, options.email);
        // Read before the transaction opens: a prompt must never hold the database.
        const password = existing ? undefined : await readSecret('Password for the new admin: ');
        try {
          // Hashed before the transaction too: argon2 takes tens of milliseconds, and on
          // SQLite an open transaction holds the write lock the running server needs.
          const passwordHash =
            password === undefined ? undefined : await hashPassword(checkPassword(password));
          // One transaction: an install never ends up with the admin but without its key.
          return await withTx(ctx, async (tx) => {
            const created = await services.bootstrap.createAdmin(tx, {
              email: options.email,
              name: options.name,
              passwordHash,
              orgSlug,
              orgName: options.orgName,
            });
            if (apiKeyName === undefined) return { ...created, apiKey: undefined };
            const asAdmin = {
              ...tx,
              principal: { kind: 'user' as const, id: created.userId, authMethod: 'cli' },
            };
            const apiKey = await services.apiKeys.createApiKey(
              asAdmin,
              created.orgId,
              { name: apiKeyName },
              { manageAll: true },
            );
            return { ...created, apiKey };
          });
        } catch (error) {
          if (isGatehouseError(error) && error.status < 500) {
            throw new CliError(`${fieldPrefix(error.field)}${error.message}`, exitCodes.error);
          }
          throw error;
        }
      });
      const { apiKey } = result;
      const summary = `${options.email} is an admin of ${orgSlug}${result.createdUser ? ' (new user)' : ''}${result.createdOrg ? ' (new org)' : ''}`;
      printResult(
        command,
        {
          user_id: result.userId,
          org_id: result.orgId,
          created_user: result.createdUser,
          created_org: result.createdOrg,
          ...(apiKey && { api_key: { id: apiKey.key.id, name: apiKey.key.name, token: apiKey.token } }),
        },
        apiKey ? `${summary}\n${apiKey.token}` : summary,
      );
      if (apiKey)
        process.stderr.write(
          `gatehouse: API key "${apiKey.key.name}" (${apiKey.key.id}) created for ${options.email} in ${orgSlug}; the key above is shown only once, store it now\n`,
        );
    });
}
