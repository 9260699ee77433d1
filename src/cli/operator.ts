// Operator commands run beside a live server on either database (SPEC §9): they read the
// same GATEHOUSE_* variables, wait a bounded time for the database, and say why in one line
// when they cannot get it.
//
// The server's modules are imported when an operator command runs, not when the program
// starts: the client commands (`gatehouse auth token` in a script) start in a fraction of
// the time without them.
import type { loadConfig } from '../config.ts';
import type { Services } from '../services.ts';
import { CliError } from './exit-codes.ts';

export async function withOperatorServices<T>(
  options: { requireCurrentSchema: boolean },
  work: (services: Services) => Promise<T>,
): Promise<T> {
  const [
    { ConfigError, loadConfig },
    { systemClock },
    { DATABASE_WAIT_MS, openDb },
    { createLogger },
    { createServices, resolveMasterKey },
  ] = await Promise.all([
    import('../config.ts'),
    import('../core/clock.ts'),
    import('../db/index.ts'),
    import('../logger.ts'),
    import('../services.ts'),
  ]);
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
  // Operator output is for people: only warnings and worse reach stderr.
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr);
  const database = openDb(config.database, log);
  try {
    try {
      await database.ping();
    } catch (error) {
      const where = config.database.kind === 'sqlite' ? config.database.path : 'PostgreSQL';
      throw new CliError(
        `cannot reach the database (${where}, waited at most ${DATABASE_WAIT_MS / 1000} s): ${(error as Error).message}`,
      );
    }
    if (options.requireCurrentSchema && (await database.pendingMigrations()).length > 0) {
      throw new CliError('the database schema is not current; run `gatehouse migrate` first');
    }
    const services = createServices({
      config,
      database,
      clock: systemClock,
      log,
      masterKey: resolveMasterKey(config),
    });
    return await work(services);
  } finally {
    await database.close();
  }
}
