import { createLogger } from '../../src/logger.ts';

/** Test logs stay quiet unless GATEHOUSE_TEST_LOG names a level. */
export const silentLogger = createLogger(
  (process.env.GATEHOUSE_TEST_LOG as 'debug' | 'info' | 'warn' | undefined) ?? 'silent',
);
