import type { Command } from 'commander';
import { withOperatorServices } from '../operator.ts';
import { printResult } from '../output.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('bring the database schema up to date (safe to run while the server runs)')
    .action(async (_options, command: Command) => {
      const applied = await withOperatorServices({ requireCurrentSchema: false }, (services) =>
        services.database.migrateToLatest(),
      );
      printResult(
        command,
        { applied },
        applied.length > 0 ? `applied: ${applied.join(', ')}` : 'the database schema is current',
      );
    });
}
