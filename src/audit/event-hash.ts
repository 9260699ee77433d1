// The hash chain (SPEC §7): each event's hash covers its canonical JSON and the previous
// event's hash, so editing, inserting or deleting any row breaks verification from there on.
import { canonicalJson } from '../core/canonical-json.ts';
import { sha256Hex } from '../core/secrets.ts';
import type { AuditEventsTable } from '../db/index.ts';

/** The hash the first event of every chain points back to. */
export const GENESIS_HASH = '0'.repeat(64);

/** Every column of an event except its own hash. */
export type HashedFields = Omit<AuditEventsTable, 'hash'>;

export function computeEventHash(fields: HashedFields): string {
  const { prev_hash, ...rest } = fields;
  return sha256Hex(`${prev_hash}\n${canonicalJson(rest)}`);
}
