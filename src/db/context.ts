// The per-request context with its database handle: the root Kysely instance, or the open
// transaction when called inside withTx.
import type { Kysely } from 'kysely';
import type { BaseContext, Principal } from '../core/context.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export interface Ctx extends BaseContext {
  readonly db: Db;
}

/**
 * `ctx` with its principal or database handle replaced. Spelled out field by field on
 * purpose: V8 (Node 20) gives `{ ...ctx, principal }` — a spread followed by more
 * properties — a new hidden class on every call, an old-space allocation per request that
 * cost forward auth a third of its throughput (bench/README.md). `Complete` makes a field
 * added to Ctx a compile error here until it is copied too.
 */
export function deriveCtx(ctx: Ctx, change: { readonly db?: Db; readonly principal?: Principal }): Ctx {
  const derived: Complete<Ctx> = {
    db: change.db ?? ctx.db,
    clock: ctx.clock,
    log: ctx.log,
    requestId: ctx.requestId,
    principal: change.principal ?? ctx.principal,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
  };
  return derived;
}

/** Every property of T present, the optional ones possibly undefined. */
type Complete<T> = { [K in keyof Required<T>]: {} extends Pick<T, K> ? T[K] | undefined : T[K] };
