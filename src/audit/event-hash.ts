// The hash chain (SPEC §7): each event's hash covers its canonical JSON and the previous
// event's hash, so editing, inserting or deleting any row breaks verification from there on.
import { canonicalJson } from '../core/canonical-json.ts';
import { sha256Hex } from '../core/secrets.ts';

/** The hash the first event of every chain points back to. */
export const GENESIS_HASH = '0'.repeat(64);

export interface HashedFields {
  id: string;
  chain_id: string;
  seq: number;
  org_id: string | null;
  action: string;
  actor_kind: string;
  actor_id: string | null;
  target_kind: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  data_json: string;
  occurred_at: number;
  prev_hash: string;
}

export function computeEventHash(fields: HashedFields): string {
  const { prev_hash, ...rest } = fields;
  return sha256Hex(`${prev_hash}\n${canonicalJson(rest)}`);
}
