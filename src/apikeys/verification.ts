// Presented key → principal (SPEC §2): the verified-key cache first (by the SHA-256 of the
// whole token), then the format and checksum with no I/O, then one store lookup. Valid keys
// are cached until their expiry or the cache lifetime, and dropped on every node when the key is
// revoked or rotated or its owner changes (notifications on the `api_keys` channel, sent in
// the changing transaction). Keys that can never become valid (unknown id, wrong secret,
// revoked, expired) are remembered in a separate bounded negative cache, so a flood of them
// costs one lookup per distinct key and cannot push valid keys out.
import type { CredentialKind, ResolvedCredential } from '../authn/index.ts';
import { isRole } from '../authz/index.ts';
import type { Principal } from '../core/context.ts';
import { type ErrorDefinition, GatehouseError } from '../core/errors.ts';
import { constantTimeEqualDigests, digestSecret, parseToken } from '../core/secrets.ts';
import { TtlCache } from '../core/ttl-cache.ts';
import { type Ctx, createSharedCache, type Notifications } from '../db/index.ts';
import { apiKeyErrors } from './errors.ts';
import * as store from './store.ts';
import type { UsageBatch } from './usage.ts';

export const API_KEY_CHANNEL = 'api_keys';

// One error object per refusal, made once: a flood of bad keys would otherwise pay for an
// Error and its stack trace on every request. They carry nothing of the request (the
// request id is added when the answer is rendered), so sharing them is safe.
const refusals = new Map<ErrorDefinition, GatehouseError>();
function refusalOf(definition: ErrorDefinition): GatehouseError {
  let error = refusals.get(definition);
  if (!error) {
    error = new GatehouseError(definition, { field: 'Authorization' });
    refusals.set(definition, error);
  }
  return error;
}

export interface KeyCacheConfig {
  readonly enabled: boolean;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly negativeTtlMs: number;
}

interface Tickets {
  readonly verified: number;
  readonly refused: number;
}

interface VerifiedKey extends ResolvedCredential {
  readonly principal: Principal;
  readonly boundOrg: NonNullable<ResolvedCredential['boundOrg']>;
}

export interface KeyLookupStats {
  /** Store lookups made for presented keys: what a flood of unknown keys costs the database. */
  storeLookups: number;
  cacheHits: number;
  negativeHits: number;
}

const PREFIX = 'gk_';

type Verification = VerifiedKey | GatehouseError | Promise<VerifiedKey | GatehouseError>;

export function createKeyVerifier(deps: {
  notifications: Notifications;
  cache: KeyCacheConfig;
  usage: UsageBatch;
}) {
  const { cache: config, notifications, usage } = deps;
  const verified = createSharedCache<VerifiedKey>(notifications, API_KEY_CHANNEL, {
    maxEntries: config.enabled ? config.maxEntries : 0,
  });
  const refused = new TtlCache<ErrorDefinition>({ maxEntries: config.enabled ? config.maxEntries : 0 });
  const stats: KeyLookupStats = { storeLookups: 0, cacheHits: 0, negativeHits: 0 };

  function refuse(definition: ErrorDefinition, digest: string, now: number, ticket: number) {
    refused.set(digest, definition, now + config.negativeTtlMs, [], ticket, now);
    return refusalOf(definition);
  }

  function toVerified(row: store.AuthLookupRow, readOnly: boolean): VerifiedKey | undefined {
    const isUser = row.user_id !== null;
    const role = isUser ? row.member_role : row.service_account_role;
    const ownerActive = isUser
      ? row.user_status === 'active' && row.member_role !== null
      : row.service_account_role !== null && row.service_account_disabled_at === null;
    if (!ownerActive || !isRole(role)) return undefined;
    // SPEC §1: a viewer's keys are read-only by inheritance, whatever flag they were made
    // with; the role is live, so promoting the owner lifts it (the cache drops on role changes).
    const effectivelyReadOnly = readOnly || role === 'viewer';
    return {
      principal: {
        kind: isUser ? 'user' : 'service_account',
        id: (isUser ? row.user_id : row.service_account_id) as string,
        orgRestriction: row.org_id,
        readOnly: effectivelyReadOnly,
        authMethod: 'api_key',
        credentialId: row.id,
      },
      boundOrg: { org: { id: row.org_id, slug: row.org_slug, name: row.org_name }, role },
    };
  }

  /** What the store's row says of a presented key: its verification, or the refusal. */
  function settle(
    ctx: Ctx,
    row: store.AuthLookupRow | undefined,
    digest: string,
    now: number,
    tickets: Tickets,
  ): VerifiedKey | GatehouseError {
    if (!row) return refuse(apiKeyErrors.unknownKey, digest, now, tickets.refused);
    if (!constantTimeEqualDigests(digest, row.secret_digest))
      return refuse(apiKeyErrors.wrongSecret, digest, now, tickets.refused);
    if (row.revoked_at !== null) return refuse(apiKeyErrors.revoked, digest, now, tickets.refused);
    if (row.expires_at !== null && now >= row.expires_at)
      return refuse(apiKeyErrors.expired, digest, now, tickets.refused);
    // Not remembered: the owner may be reactivated.
    const key = toVerified(row, row.read_only === 1);
    if (!key) return refusalOf(apiKeyErrors.ownerInactive);
    const until = Math.min(now + config.ttlMs, row.expires_at ?? Number.POSITIVE_INFINITY);
    verified.set(ctx, digest, key, until, [row.id, key.principal.id, row.org_id], tickets.verified, now);
    usage.record(row.id, now);
    return key;
  }

  /** One store lookup; synchronous where the store answers synchronously (SQLite). */
  function lookUp(ctx: Ctx, keyId: string, digest: string, now: number): Verification {
    // Taken before the read: an invalidation while it runs keeps its result out of the cache.
    const tickets: Tickets = { verified: verified.ticket(), refused: refused.ticket() };
    stats.storeLookups += 1;
    const row = store.selectKeyForAuth(ctx, keyId);
    return row instanceof Promise
      ? row.then((found) => settle(ctx, found, digest, now, tickets))
      : settle(ctx, row, digest, now, tickets);
  }

  /**
   * Verifies a presented `gk_` token, or returns the error that says exactly what is wrong
   * with it (returned, not thrown: see CredentialKind.resolve). A cached key is answered
   * synchronously; format and checksum are checked before anything reaches the database.
   */
  function verify(ctx: Ctx, token: string): Verification {
    const now = ctx.clock.now();
    const digest = digestSecret(token);
    // A cached key was parsed and checked when it was verified: the digest of the whole
    // token stands for all of it.
    const key = verified.get(ctx, digest, now);
    if (key !== undefined) {
      stats.cacheHits += 1;
      usage.record(key.principal.credentialId as string, now);
      return key;
    }
    const parsed = parseToken(token, PREFIX);
    if (!parsed.ok)
      return refusalOf(parsed.reason === 'malformed' ? apiKeyErrors.malformed : apiKeyErrors.badChecksum);
    const known = refused.get(digest, now);
    if (known !== undefined) {
      stats.negativeHits += 1;
      return refusalOf(known);
    }
    return lookUp(ctx, parsed.keyId, digest, now);
  }

  const credentialKind: CredentialKind = {
    id: 'api_key',
    transport: 'header',
    extract: (presented) => (presented.bearer?.startsWith(PREFIX) ? presented.bearer : undefined),
    resolve: verify,
  };

  /** Drops cached verifications tagged with a key, owner or org id, on every node once ctx commits. */
  const invalidate = verified.invalidate;

  return { credentialKind, invalidate, stats: (): Readonly<KeyLookupStats> => ({ ...stats }) };
}

export type KeyVerifier = ReturnType<typeof createKeyVerifier>;
