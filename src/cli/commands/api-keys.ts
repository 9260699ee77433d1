// `gatehouse keys create|list|revoke`: API keys in the org (SPEC §4). A new key is printed
// once, on stdout alone, so `KEY=$(gatehouse keys create ci)` captures just the key.
import type { Command } from 'commander';
import { type ClientContext, type GlobalFlags, resolveConnection } from '../client/connection.ts';
import { fetchAllPages, orgPath } from '../client/pages.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { formatTable, printResult, tell, wantsJson } from '../output.ts';

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  owner: { kind: string; id: string };
  read_only: boolean;
  status: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

interface CreateOptions {
  readonly readOnly?: boolean;
  readonly expiresAt?: string;
  readonly serviceAccount?: string;
}

function expiryOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new CliError(`--expires-at must be a date and time (ISO 8601), not ${value}`, exitCodes.usage);
  return new Date(at).toISOString();
}

export function registerApiKeyCommands(keys: Command, context: ClientContext): void {
  keys
    .command('list')
    .description('list API keys in the organization (yours, or all of them for an admin)')
    .option('--include-revoked', 'show revoked keys too')
    .action(async (options: { includeRevoked?: boolean }, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      const query = options.includeRevoked ? '?include_revoked=true' : '';
      const data = await fetchAllPages<ApiKey>(
        connection.call,
        `${await orgPath(connection)}/api-keys${query}`,
      );
      printResult(
        command,
        { data },
        formatTable(
          ['ID', 'NAME', 'PREFIX', 'OWNER', 'ACCESS', 'STATUS', 'EXPIRES', 'LAST USED'],
          data.map((k) => [
            k.id,
            k.name,
            k.prefix,
            k.owner.id,
            k.read_only ? 'read-only' : 'read-write',
            k.status,
            k.expires_at ?? 'never',
            k.last_used_at ?? 'never',
          ]),
          'No API keys.',
        ),
      );
    });
  keys
    .command('create')
    .argument('<name>', 'what the key is for')
    .option('--read-only', 'the key may only read')
    .option('--expires-at <time>', 'when the key stops working (ISO 8601)')
    .option('--service-account <id>', "a service account's key instead of your own (admins)")
    .description('create an API key; it is shown once')
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      const expiresAt = expiryOf(options.expiresAt);
      const issued = await connection.call<ApiKey & { token: string }>({
        method: 'POST',
        path: `${await orgPath(connection)}/api-keys`,
        body: {
          name,
          ...(options.readOnly ? { read_only: true } : {}),
          ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
          ...(options.serviceAccount === undefined ? {} : { service_account_id: options.serviceAccount }),
        },
      });
      if (wantsJson(command)) {
        process.stdout.write(`${JSON.stringify(issued)}\n`);
        return;
      }
      tell(`Created API key ${issued.id} (${issued.name}). It is shown this once; store it now:`);
      process.stdout.write(`${issued.token}\n`);
    });
  keys
    .command('revoke')
    .argument('<id>', 'the key’s id (from `gatehouse keys list`)')
    .description('revoke an API key: it stops working at once, everywhere')
    .action(async (id: string, _options: unknown, command: Command) => {
      const connection = await resolveConnection(context, command.optsWithGlobals<GlobalFlags>());
      await connection.call({
        method: 'DELETE',
        path: `${await orgPath(connection)}/api-keys/${encodeURIComponent(id)}`,
      });
      printResult(command, { revoked: id }, `Revoked API key ${id}.`);
    });
}
