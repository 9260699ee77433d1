import type { Command } from 'commander';

const SERVE = 'serve';

export function registerServe(program: Command): void {
  program
    .command(SERVE)
    .description('run the Gatehouse server (the same as `npm start`)')
    .action(async () => {
      // Loaded here, not at the top: client commands must not pay for the server's modules.
      const { runServer } = await import('../../main.ts');
      await runServer();
    });
}

/** True for the command that keeps the process running after its action returns. */
export function isLongRunning(command: Command): boolean {
  return command.name() === SERVE;
}
