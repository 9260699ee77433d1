// The `gatehouse` program. Global flags are declared once here and inherited by every
// subcommand (SPEC §9); each command lives in its own file under commands/.
import { Command, CommanderError } from 'commander';
import { registerAdminCreate } from './commands/admin-create.ts';
import { registerAdminVerifyDomain } from './commands/admin-verify-domain.ts';
import { registerAuditVerify } from './commands/audit-verify.ts';
import { registerKeysRotate } from './commands/keys-rotate.ts';
import { registerMcpDoctor } from './commands/mcp-doctor.ts';
import { registerMigrate } from './commands/migrate.ts';
import { isLongRunning, registerServe } from './commands/serve.ts';
import { CliError, exitCodes } from './exit-codes.ts';

export function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description('Gatehouse: identity and access for AI platforms')
    .option('--url <url>', 'the Gatehouse server URL (client commands)')
    .option('--profile <name>', 'the credential profile to use (client commands)')
    .option('--org <slug>', 'the organization to act in')
    .option('--project <name>', 'the project to act in')
    .option('--api-key <key>', 'authenticate with this API key instead of a profile')
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
  registerKeysRotate(program);
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
