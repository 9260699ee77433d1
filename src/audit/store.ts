// SQL for the audit tables. The chain head row (audit_chains) is the lock that serializes
// appends to one chain: the UPDATE takes its row lock on PostgreSQL until commit, and SQLite
// runs one writer at a time.
import type { AuditEventsTable, Ctx } from '../db/index.ts';
import { GENESIS_HASH } from './event-hash.ts';

export type AuditRow = AuditEventsTable;

export async function advanceChainHead(
  ctx: Ctx,
  chainId: string,
): Promise<{ seq: number; prevHash: string }> {
  // One statement: a chain's first event makes its head row, every later one bumps it. The
  // row lock it takes orders the chain's writers until commit.
  const head = await ctx.db
    .insertInto('audit_chains')
    .values({ chain_id: chainId, last_seq: 1, last_hash: GENESIS_HASH })
    .onConflict((oc) =>
      oc.column('chain_id').doUpdateSet((eb) => ({ last_seq: eb('audit_chains.last_seq', '+', 1) })),
    )
    .returning(['last_seq', 'last_hash'])
    .executeTakeFirstOrThrow();
  return { seq: Number(head.last_seq), prevHash: head.last_hash };
}

/** Inserts the event; a trigger stores its hash as the chain head's (migration 0011). */
export async function insertEvent(ctx: Ctx, row: AuditRow): Promise<void> {
  await ctx.db.insertInto('audit_events').values(row).execute();
}

export interface EventFilter {
  chainId: string;
  action?: string;
  actorId?: string;
  targetId?: string;
  since?: number;
  until?: number;
  /** Newest first: events of a lower sequence number than this one. */
  beforeSeq?: number;
  limit: number;
}

export async function selectEvents(ctx: Ctx, filter: EventFilter): Promise<AuditRow[]> {
  let query = ctx.db.selectFrom('audit_events').selectAll().where('chain_id', '=', filter.chainId);
  if (filter.action) {
    // A trailing '.*' selects a whole resource family, e.g. `user.*`.
    query = filter.action.endsWith('.*')
      ? query.where('action', 'like', `${filter.action.slice(0, -1)}%`)
      : query.where('action', '=', filter.action);
  }
  if (filter.actorId) query = query.where('actor_id', '=', filter.actorId);
  if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
  if (filter.since !== undefined) query = query.where('occurred_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('occurred_at', '<', filter.until);
  if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
  return query.orderBy('seq', 'desc').limit(filter.limit).execute();
}

/** Streams a chain in sequence order, a batch at a time, for verification and export. */
export async function* iterateChain(ctx: Ctx, chainId: string, batchSize = 1000): AsyncGenerator<AuditRow> {
  let afterSeq = 0;
  for (;;) {
    const rows = await ctx.db
      .selectFrom('audit_events')
      .selectAll()
      .where('chain_id', '=', chainId)
      .where('seq', '>', afterSeq)
      .orderBy('seq', 'asc')
      .limit(batchSize)
      .execute();
    for (const row of rows) yield { ...row, seq: Number(row.seq), occurred_at: Number(row.occurred_at) };
    const last = rows[rows.length - 1];
    if (!last || rows.length < batchSize) return;
    afterSeq = Number(last.seq);
  }
}

export async function selectChainHead(
  ctx: Ctx,
  chainId: string,
): Promise<{ lastSeq: number; lastHash: string } | undefined> {
  const head = await ctx.db
    .selectFrom('audit_chains')
    .select(['last_seq', 'last_hash'])
    .where('chain_id', '=', chainId)
    .executeTakeFirst();
  return head ? { lastSeq: Number(head.last_seq), lastHash: head.last_hash } : undefined;
}
