import type { Command } from 'commander';
import { runServer } from '../../main.ts';

const SERVE = 'serve';

export function registerServe(program: Command): void {
  program
    .command(SERVE)
    .description('run the Gatehouse server (the same as `npm start`)')
    .action(async () => {
      await runServer();
    });
}

/** True for the command that keeps the process running after its action returns. */
export function isLongRunning(command: Command): boolean {
  return command.name() === SERVE;
}
