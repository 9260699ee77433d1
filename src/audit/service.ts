// The append-only, hash-chained audit log (SPEC §7). append() runs inside the caller's
// transaction so an event exists exactly when its change does.

import { isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Page } from '../core/pagination.ts';
import { type Ctx, withTx } from '../db/index.ts';
import { auditErrors } from './errors.ts';
import { computeEventHash } from './event-hash.ts';
import * as store from './store.ts';

/** The chain of events that belong to no org (e.g. a failed sign-in for an unknown email). */
export const INSTANCE_CHAIN = '';

/** `scim_token`: an IdP provisioning over SCIM, named by its token's id (`sct_…`). */
export type ActorKind = 'user' | 'service_account' | 'scim_token' | 'system' | 'anonymous';

export interface AuditEventInput {
  /** null for instance-level events. */
  readonly orgId: string | null;
  /** `resource.past_verb`, e.g. `api_key.revoked`. */
  readonly action: string;
  readonly target?: { readonly kind: string; readonly id: string };
  /** Defaults to ctx.principal, else `anonymous`. */
  readonly actor?: { readonly kind: ActorKind; readonly id: string | null };
  /** Non-secret details. Never put a credential, password or token here. */
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface AuditEvent {
  id: string;
  seq: number;
  org_id: string | null;
  action: string;
  actor: { kind: string; id: string | null };
  target: { kind: string; id: string } | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  data: Record<string, unknown>;
  occurred_at: string;
}

export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetId?: string;
  since?: number;
  until?: number;
  cursor?: string;
  limit: number;
}

export type VerifyResult =
  | { valid: true; eventsChecked: number }
  | {
      valid: false;
      eventsChecked: number;
      firstBroken: {
        seq: number;
        eventId: string | null;
        reason: 'hash_mismatch' | 'broken_link' | 'missing_events';
      };
    };

export interface AuditService {
  append(ctx: Ctx, input: AuditEventInput): Promise<void>;
  list(ctx: Ctx, orgId: string, filter: AuditFilter): Promise<Page<AuditEvent>>;
  verify(ctx: Ctx, chainId: string): Promise<VerifyResult>;
}

function toEvent(row: store.AuditRow): AuditEvent {
  return {
    id: row.id,
    seq: Number(row.seq),
    org_id: row.org_id,
    action: row.action,
    actor: { kind: row.actor_kind, id: row.actor_id },
    target: row.target_kind && row.target_id ? { kind: row.target_kind, id: row.target_id } : null,
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    data: JSON.parse(row.data_json) as Record<string, unknown>,
    occurred_at: isoTime(row.occurred_at),
  };
}

async function append(ctx: Ctx, input: AuditEventInput): Promise<void> {
  await withTx(ctx, async (tx) => {
    const chainId = input.orgId ?? INSTANCE_CHAIN;
    const { seq, prevHash } = await store.advanceChainHead(tx, chainId);
    const actor =
      input.actor ??
      (tx.principal
        ? {
            kind: tx.principal.authMethod === 'scim_token' ? 'scim_token' : tx.principal.kind,
            id: tx.principal.id,
          }
        : { kind: 'anonymous', id: null });
    const now = tx.clock.now();
    const fields = {
      id: newId('evt', now),
      chain_id: chainId,
      seq,
      org_id: input.orgId,
      action: input.action,
      actor_kind: actor.kind,
      actor_id: actor.id,
      target_kind: input.target?.kind ?? null,
      target_id: input.target?.id ?? null,
      ip: tx.ip ?? null,
      user_agent: tx.userAgent ? tx.userAgent.slice(0, 512) : null,
      request_id: tx.requestId,
      data_json: JSON.stringify(input.data ?? {}),
      occurred_at: now,
      prev_hash: prevHash,
    };
    await store.insertEvent(tx, { ...fields, hash: computeEventHash(fields) });
  });
}

// The audit cursor is the chain position (seq), the order events were committed in; ids
// made within one millisecond do not sort by commit order.
function encodeSeqCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`, 'utf8').toString('base64url');
}

function decodeSeqCursor(cursor: string): number {
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new GatehouseError(auditErrors.invalidCursor, { field: 'cursor' });
  return Number(match[1]);
}

async function list(ctx: Ctx, orgId: string, filter: AuditFilter): Promise<Page<AuditEvent>> {
  const beforeSeq = filter.cursor === undefined ? undefined : decodeSeqCursor(filter.cursor);
  const rows = await store.selectEvents(ctx, {
    ...filter,
    chainId: orgId,
    beforeSeq,
    limit: filter.limit + 1,
  });
  const items = rows.slice(0, filter.limit).map(toEvent);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > filter.limit && last ? encodeSeqCursor(last.seq) : null };
}

/** Walks the chain in order and reports the first event whose link or hash does not hold. */
async function verify(ctx: Ctx, chainId: string): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prevHash: string | undefined;
  let checked = 0;
  for await (const row of store.iterateChain(ctx, chainId)) {
    if (row.seq !== expectedSeq) {
      return {
        valid: false,
        eventsChecked: checked,
        firstBroken: { seq: expectedSeq, eventId: null, reason: 'missing_events' },
      };
    }
    if (prevHash !== undefined && row.prev_hash !== prevHash) {
      return {
        valid: false,
        eventsChecked: checked,
        firstBroken: { seq: row.seq, eventId: row.id, reason: 'broken_link' },
      };
    }
    const { hash, ...fields } = row;
    if (computeEventHash(fields) !== hash) {
      return {
        valid: false,
        eventsChecked: checked,
        firstBroken: { seq: row.seq, eventId: row.id, reason: 'hash_mismatch' },
      };
    }
    prevHash = hash;
    expectedSeq += 1;
    checked += 1;
  }
  // Deleting the newest events leaves a clean prefix; the head row still remembers the end.
  const head = await store.selectChainHead(ctx, chainId);
  if (head && (head.lastSeq !== checked || (prevHash !== undefined && head.lastHash !== prevHash))) {
    return {
      valid: false,
      eventsChecked: checked,
      firstBroken: { seq: checked + 1, eventId: null, reason: 'missing_events' },
    };
  }
  return { valid: true, eventsChecked: checked };
}

export function createAuditService(): AuditService {
  return { append, list, verify };
}
