import type { Command } from 'commander';
import { runServer } from '../../main.ts';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Gatehouse server (the same as `npm start`)')
    .action(async () => {
      await runServer();
    });
}
