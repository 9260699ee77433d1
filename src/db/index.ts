export { type Ctx, type Db, deriveCtx } from './context.ts';
export { type DialectName, isDatabaseUnavailable, isUniqueViolation } from './dialect.ts';
export {
  type DbOwner,
  type HotQuery,
  type HotStatement,
  hotQuery,
  hotStatement,
  type RowValues,
} from './hot-query.ts';
export type { NotificationHandler, Notifications } from './notifications.ts';
export { DATABASE_WAIT_MS, type DatabaseTarget, type DbHandle, openDb } from './open.ts';
export type * from './schema.ts';
export { createSharedCache, type SharedCache } from './shared-cache.ts';
export { withTx } from './tx.ts';
