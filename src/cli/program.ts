// The `gatehouse` program. Global flags are declared once here and inherited by every
// subcommand (SPEC §9); each command lives in its own file under commands/.
import { Command, CommanderError } from 'commander';
import { loadClientEnvironment } from '../config.ts';
import { ConfigStore } from './client/config-file.ts';
import type { ClientContext } from './client/connection.ts';
import { registerAdminCreate } from './commands/admin-create.ts';
import { registerAdminVerifyDomain } from './commands/admin-verify-domain.ts';
import { registerApiKeyCommands } from './commands/api-keys.ts';
import { registerAuditVerify } from './commands/audit-verify.ts';
import { registerAuthLogin } from './commands/auth-login.ts';
import { registerAuthLogout } from './commands/auth-logout.ts';
import { registerAuthProfiles } from './commands/auth-profiles.ts';
import { registerAuthStatus } from './commands/auth-status.ts';
import { registerAuthToken } from './commands/auth-token.ts';
import { registerKeysRotate } from './commands/keys-rotate.ts';
import { registerMcpDoctor } from './commands/mcp-doctor.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerOrgs } from './commands/orgs.ts';
import { registerProjects } from './commands/projects.ts';
import { isLongRunning, registerServe } from './commands/serve.ts';
import { registerWhoami } from './commands/whoami.ts';
import { CliError, exitCodes } from './exit-codes.ts';

export function buildProgram(): Command {
  const environment = loadClientEnvironment();
  const client: ClientContext = { env: environment, store: new ConfigStore(environment.configDir) };
  const program = new Command('gatehouse')
    .description('Gatehouse: identity and access for AI platforms')
    .option('--url <url>', 'the Gatehouse server URL (client commands; or GATEHOUSE_URL)')
    .option('--profile <name>', 'the saved profile to use (or GATEHOUSE_PROFILE)')
    .option('--org <slug>', 'the organization to act in (or GATEHOUSE_ORG)')
    .option('--project <name>', 'the project to act in (or GATEHOUSE_PROJECT)')
    // Bare, the key is read from a hidden prompt, or from stdin when it is not a terminal, so
    // it stays out of shell history and `ps`.
    .option(
      '--api-key [key]',
      'authenticate with an API key instead of a profile (or GATEHOUSE_API_KEY); bare (last, or before another flag), it is read from a prompt or stdin',
    )
    .option('--json', 'print machine-readable JSON on stdout')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .enablePositionalOptions(false);
  registerServe(program);
  registerMigrate(program);
  const admin = program.command('admin').description('operator commands for administrators');
  registerAdminCreate(admin);
  registerAdminVerifyDomain(admin);
  registerAuditVerify(program);
  const auth = program.command('auth').description('sign in to a Gatehouse server, and the saved profiles');
  registerAuthLogin(auth, client);
  registerAuthStatus(auth, client);
  registerAuthToken(auth, client);
  registerAuthLogout(auth, client);
  registerAuthProfiles(auth, client);
  registerWhoami(program, client);
  registerOrgs(program, client);
  registerProjects(program, client);
  const keys = program
    .command('keys')
    .description('API keys (create, list, revoke) and the server’s signing keys (rotate)');
  registerApiKeyCommands(keys, client);
  registerKeysRotate(keys);
  const mcp = program.command('mcp').description('client-side checks of MCP servers');
  registerMcpDoctor(mcp);
  return program;
}

/**
 * What a run of the program came to: the exit code, or `serving` when a long-running command
 * (`serve`) started and owns the process from now on (it exits on SIGTERM/SIGINT).
 */
export type CliOutcome = number | 'serving';

export async function runCli(argv: readonly string[]): Promise<CliOutcome> {
  const program = buildProgram();
  // Which command ran is known only after parsing: `gatehouse --json serve` is serve too,
  // and `gatehouse serve --bogus` is a usage error that must still exit 2.
  let started: Command | undefined;
  program.hook('preAction', (_program, actionCommand) => {
    started = actionCommand;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (started !== undefined && isLongRunning(started)) return 'serving';
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      )
        return exitCodes.ok;
      return exitCodes.usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`gatehouse: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`gatehouse: ${(error as Error).message}\n`);
    return exitCodes.error;
  }
}
