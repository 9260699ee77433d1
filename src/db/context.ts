// The per-request context with its database handle: the root Kysely instance, or the open
// transaction when called inside withTx.
import type { Kysely } from 'kysely';
import type { BaseContext } from '../core/context.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export interface Ctx extends BaseContext {
  readonly db: Db;
}
