// How an API key is shown over /v1: never its secret or digest, only the public prefix
// (`gk_<key id>`) that also appears at the start of the token, so people can match them.
import { isoTime } from '../core/clock.ts';
import type { ListQuery } from '../core/pagination.ts';
import type { ApiKeyRow } from './store.ts';

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  owner: { kind: 'user' | 'service_account'; id: string };
  read_only: boolean;
  status: ApiKeyStatus;
  created_at: string;
  created_by: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
  replaced_by: string | null;
}

export interface ApiKeyListQuery extends ListQuery {
  ownerId?: string;
  includeRevoked: boolean;
}

export const optionalTime = (ms: number | null) => (ms === null ? null : isoTime(ms));

/** The standing of an API key or SCIM token, from when it was revoked and when it expires. */
export function credentialStatus(
  row: { readonly revoked_at: number | null; readonly expires_at: number | null },
  now: number,
): ApiKeyStatus {
  if (row.revoked_at !== null) return 'revoked';
  return row.expires_at !== null && row.expires_at <= now ? 'expired' : 'active';
}

export function toApiKey(row: ApiKeyRow, now: number, pendingUse: number | undefined): ApiKey {
  const lastUsed =
    pendingUse !== undefined && (row.last_used_at === null || pendingUse > row.last_used_at)
      ? pendingUse
      : row.last_used_at;
  const status = credentialStatus(row, now);
  return {
    id: row.id,
    name: row.name,
    prefix: `gk_${row.key_id}`,
    owner:
      row.user_id !== null
        ? { kind: 'user', id: row.user_id }
        : { kind: 'service_account', id: row.service_account_id as string },
    read_only: row.read_only === 1,
    status,
    created_at: isoTime(row.created_at),
    created_by: row.created_by,
    expires_at: optionalTime(row.expires_at),
    last_used_at: optionalTime(lastUsed),
    revoked_at: optionalTime(row.revoked_at),
    rotated_from: row.rotated_from,
    replaced_by: row.replaced_by,
  };
}
