// The hash chain (SPEC §7): each event's hash covers its canonical JSON and the previous
// event's hash, so editing, inserting or deleting any row breaks verification from there on.
import { canonicalJson } from '../core/canonical-json.ts';
import { sha256Hex } from '../core/secrets.ts';
import type { AuditEventsTable } from '../db/index.ts';

/** The hash the first event of every chain points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The columns a hash covers, named explicitly: a column added to audit_events later must
 * not change the hash of events written before it.
 */
const HASHED_COLUMNS = [
  'id',
  'chain_id',
  'seq',
  'org_id',
  'action',
  'actor_kind',
  'actor_id',
  'target_kind',
  'target_id',
  'ip',
  'user_agent',
  'request_id',
  'data_json',
  'occurred_at',
] as const;

export type HashedFields = Pick<AuditEventsTable, (typeof HASHED_COLUMNS)[number] | 'prev_hash'>;

export function computeEventHash(fields: HashedFields): string {
  const covered = Object.fromEntries(HASHED_COLUMNS.map((column) => [column, fields[column]]));
  return sha256Hex(`${fields.prev_hash}\n${canonicalJson(covered)}`);
}
