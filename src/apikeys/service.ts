// API keys (SPEC §2, §4): create, list, revoke and rotate, the credential kind that verifies
// presented keys (verification.ts), and the lifecycle listeners through which tenancy's
// changes reach the keys: a suspended owner's keys stop at once (and work again on
// reactivation); removal from the org, deprovisioning and service-account deletion revoke
// them. Every change is audited in its transaction and announced to every node.
import type { AuditService } from '../audit/index.ts';
import { DAY, isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { listCursorAfter, type Page, toPage } from '../core/pagination.ts';
import { issueToken } from '../core/secrets.ts';
import { type Ctx, type Notifications, withTx } from '../db/index.ts';
import {
  type ServiceAccountLifecycleListener,
  tenancyErrors,
  type UserLifecycleListener,
} from '../tenancy/index.ts';
import { apiKeyErrors } from './errors.ts';
import * as store from './store.ts';
import { createUsageBatch } from './usage.ts';
import { createKeyVerifier, type KeyCacheConfig } from './verification.ts';
import { type ApiKey, type ApiKeyListQuery, toApiKey } from './views.ts';

/** How long the old secret keeps working after a rotation unless the caller says otherwise. */
const DEFAULT_ROTATION_OVERLAP_MS = DAY;

export interface ApiKeysDeps {
  readonly audit: AuditService;
  readonly notifications: Notifications;
  readonly cache: KeyCacheConfig;
}

/** What the caller may do with keys in this org: its own only, or every key (`apikeys:all`). */
export interface KeyScope {
  readonly manageAll: boolean;
}

export interface NewApiKeyInput {
  name: string;
  readOnly?: boolean;
  /** Epoch ms. */
  expiresAt?: number;
  /** Make the key for this service account instead of the caller (admins only). */
  serviceAccountId?: string;
}

export interface IssuedApiKey {
  readonly key: ApiKey;
  /** The secret, shown once. */
  readonly token: string;
}

function ownerOf(row: store.ApiKeyRow): string {
  return (row.user_id ?? row.service_account_id) as string;
}

export function createApiKeysService(deps: ApiKeysDeps) {
  const { audit } = deps;
  const usage = createUsageBatch();
  const verifier = createKeyVerifier({ notifications: deps.notifications, cache: deps.cache, usage });
  const view = (row: store.ApiKeyRow, now: number) => toApiKey(row, now, usage.pending(row.id));

  function callerOf(ctx: Ctx) {
    const principal = ctx.principal;
    if (!principal) throw new Error('API key management needs a principal');
    return principal;
  }

  /** The key, if the caller may see it: its own, or any key in the org with `manageAll`. */
  async function visibleKey(ctx: Ctx, orgId: string, id: string, scope: KeyScope): Promise<store.ApiKeyRow> {
    const row = await store.selectApiKeyInOrg(ctx, orgId, id);
    if (!row || (!scope.manageAll && ownerOf(row) !== callerOf(ctx).id))
      throw new GatehouseError(apiKeyErrors.notFound, { field: 'api_key_id' });
    return row;
  }

  async function insertKey(
    tx: Ctx,
    orgId: string,
    fields: Pick<store.ApiKeyRow, 'user_id' | 'service_account_id' | 'name' | 'read_only' | 'expires_at'> & {
      rotated_from?: string;
    },
  ): Promise<IssuedApiKey> {
    const now = tx.clock.now();
    const issued = issueToken('gk_');
    const row: store.ApiKeyRow = {
      id: newId('key', now),
      key_id: issued.keyId,
      secret_digest: issued.digest,
      org_id: orgId,
      user_id: fields.user_id,
      service_account_id: fields.service_account_id,
      name: fields.name,
      read_only: fields.read_only,
      created_by: tx.principal?.kind === 'user' ? tx.principal.id : null,
      created_at: now,
      expires_at: fields.expires_at,
      last_used_at: null,
      revoked_at: null,
      revoke_reason: null,
      rotated_from: fields.rotated_from ?? null,
      replaced_by: null,
    };
    await store.insertApiKey(tx, row);
    return { key: view(row, now), token: issued.token };
  }

  async function createApiKey(
    ctx: Ctx,
    orgId: string,
    input: NewApiKeyInput,
    scope: KeyScope,
  ): Promise<IssuedApiKey> {
    const caller = callerOf(ctx);
    const now = ctx.clock.now();
    if (input.expiresAt !== undefined && input.expiresAt <= now)
      throw new GatehouseError(apiKeyErrors.invalidExpiry, { field: 'expires_at' });
    if (input.serviceAccountId !== undefined && !scope.manageAll)
      throw new GatehouseError(apiKeyErrors.managementForbidden, { field: 'service_account_id' });
    return withTx(ctx, async (tx) => {
      let owner: { user_id: string | null; service_account_id: string | null };
      if (input.serviceAccountId !== undefined) {
        if (!(await store.serviceAccountExists(tx, orgId, input.serviceAccountId)))
          throw new GatehouseError(tenancyErrors.serviceAccountNotFound, { field: 'service_account_id' });
        owner = { user_id: null, service_account_id: input.serviceAccountId };
      } else if (caller.kind === 'service_account') owner = { user_id: null, service_account_id: caller.id };
      else owner = { user_id: caller.id, service_account_id: null };
      const issued = await insertKey(tx, orgId, {
        ...owner,
        name: input.name.trim(),
        read_only: input.readOnly ? 1 : 0,
        expires_at: input.expiresAt ?? null,
      });
      await audit.append(tx, {
        orgId,
        action: 'api_key.created',
        target: { kind: 'api_key', id: issued.key.id },
        data: {
          name: issued.key.name,
          prefix: issued.key.prefix,
          owner: issued.key.owner,
          read_only: issued.key.read_only,
          expires_at: issued.key.expires_at,
        },
      });
      return issued;
    });
  }

  async function listApiKeys(
    ctx: Ctx,
    orgId: string,
    query: ApiKeyListQuery,
    scope: KeyScope,
  ): Promise<Page<ApiKey>> {
    const caller = callerOf(ctx);
    let ownerId = query.ownerId;
    if (!scope.manageAll) {
      if (ownerId !== undefined && ownerId !== caller.id)
        throw new GatehouseError(apiKeyErrors.managementForbidden, { field: 'owner_id' });
      ownerId = caller.id;
    }
    const owner =
      ownerId === undefined
        ? undefined
        : ownerId.startsWith('sva_')
          ? { serviceAccountId: ownerId }
          : { userId: ownerId };
    const rows = await store.selectApiKeys(ctx, {
      orgId,
      owner,
      includeRevoked: query.includeRevoked,
      after: listCursorAfter(query.cursor),
      limit: query.limit + 1,
    });
    const now = ctx.clock.now();
    return toPage(
      rows.map((r) => view(r, now)),
      query.limit,
    );
  }

  async function getApiKey(ctx: Ctx, orgId: string, id: string, scope: KeyScope): Promise<ApiKey> {
    return view(await visibleKey(ctx, orgId, id, scope), ctx.clock.now());
  }

  async function revokeApiKey(ctx: Ctx, orgId: string, id: string, scope: KeyScope): Promise<void> {
    await withTx(ctx, async (tx) => {
      const row = await visibleKey(tx, orgId, id, scope);
      const reason = ownerOf(row) === callerOf(tx).id ? 'revoked_by_owner' : 'revoked_by_admin';
      // Revoking twice changes nothing and records nothing.
      if (!(await store.revokeApiKeyRow(tx, row.id, reason, tx.clock.now()))) return;
      await audit.append(tx, {
        orgId,
        action: 'api_key.revoked',
        target: { kind: 'api_key', id: row.id },
        data: { name: row.name, reason },
      });
      await verifier.invalidate(tx, row.id);
    });
  }

  /**
   * Issues a new secret as a new key with the same owner, name and flags; the old key keeps
   * working for `overlapMs` (never longer than it would have), then stops. The new key
   * expires at `expiresAt` (null: never) or, when not given, after as long a lifetime as the
   * old key had, counted from now, so rotating renews a key instead of inheriting its end.
   */
  async function rotateApiKey(
    ctx: Ctx,
    orgId: string,
    id: string,
    input: { overlapMs?: number; expiresAt?: number | null },
    scope: KeyScope,
  ): Promise<IssuedApiKey & { previous: ApiKey }> {
    const now = ctx.clock.now();
    if (typeof input.expiresAt === 'number' && input.expiresAt <= now)
      throw new GatehouseError(apiKeyErrors.invalidExpiry, { field: 'expires_at' });
    return withTx(ctx, async (tx) => {
      const old = await visibleKey(tx, orgId, id, scope);
      const active =
        old.revoked_at === null &&
        old.replaced_by === null &&
        (old.expires_at === null || old.expires_at > now);
      if (!active) throw new GatehouseError(apiKeyErrors.inactive, { field: 'api_key_id' });
      const lifetime = old.expires_at === null ? null : old.expires_at - old.created_at;
      const expiresAt =
        input.expiresAt !== undefined ? input.expiresAt : lifetime === null ? null : now + lifetime;
      const issued = await insertKey(tx, orgId, { ...old, expires_at: expiresAt, rotated_from: old.id });
      const overlapEnd = now + (input.overlapMs ?? DEFAULT_ROTATION_OVERLAP_MS);
      const oldExpiry = old.expires_at === null ? overlapEnd : Math.min(old.expires_at, overlapEnd);
      // Lost a race with another rotation or a revocation: throwing rolls back the new key.
      if (!(await store.markRotated(tx, old.id, { replaced_by: issued.key.id, expires_at: oldExpiry })))
        throw new GatehouseError(apiKeyErrors.inactive, { field: 'api_key_id' });
      await audit.append(tx, {
        orgId,
        action: 'api_key.rotated',
        target: { kind: 'api_key', id: old.id },
        data: { name: old.name, replaced_by: issued.key.id, old_key_expires_at: isoTime(oldExpiry) },
      });
      await verifier.invalidate(tx, old.id);
      const previous = view({ ...old, replaced_by: issued.key.id, expires_at: oldExpiry }, now);
      return { ...issued, previous };
    });
  }

  /** Revokes an owner's keys (in one org or all) with their audit events, inside ctx's transaction. */
  async function revokeKeysOfOwner(
    ctx: Ctx,
    owner: { userId?: string; serviceAccountId?: string; orgId?: string },
    reason: string,
  ): Promise<void> {
    const revoked = await store.revokeKeysOfOwner(ctx, owner, reason, ctx.clock.now());
    for (const key of revoked) {
      await audit.append(ctx, {
        orgId: key.org_id,
        action: 'api_key.revoked',
        target: { kind: 'api_key', id: key.id },
        data: { reason },
      });
    }
    const ownerId = owner.userId ?? owner.serviceAccountId;
    if (ownerId) await verifier.invalidate(ctx, ownerId);
  }

  const userLifecycle: UserLifecycleListener = {
    async onUserDeactivated(ctx, event) {
      if (event.reason === 'suspended') await verifier.invalidate(ctx, event.userId);
      else if (event.reason === 'removed_from_org')
        await revokeKeysOfOwner(ctx, { userId: event.userId, orgId: event.orgId }, 'owner_removed_from_org');
      else if (event.reason === 'deprovisioned_in_org')
        await revokeKeysOfOwner(
          ctx,
          { userId: event.userId, orgId: event.orgId },
          'owner_deprovisioned_in_org',
        );
      else await revokeKeysOfOwner(ctx, { userId: event.userId }, 'owner_deprovisioned');
    },
    // The owner's role is part of every cached verification of their keys.
    onRoleChanged: (ctx, event) => verifier.invalidate(ctx, event.userId),
  };

  const serviceAccountLifecycle: ServiceAccountLifecycleListener = {
    async onServiceAccountChanged(ctx, event) {
      if (event.change === 'deleted')
        await revokeKeysOfOwner(ctx, { serviceAccountId: event.serviceAccountId }, 'service_account_deleted');
      else await verifier.invalidate(ctx, event.serviceAccountId);
    },
  };

  /** Writes the batched last-used times (main.ts calls this on a timer and at shutdown). */
  async function flushUsage(ctx: Ctx): Promise<number> {
    const batch = usage.take();
    if (batch.size === 0) return 0;
    try {
      await withTx(ctx, (tx) => store.updateLastUsed(tx, batch));
    } catch (error) {
      usage.restore(batch);
      throw error;
    }
    return batch.size;
  }

  return {
    createApiKey,
    listApiKeys,
    getApiKey,
    revokeApiKey,
    rotateApiKey,
    flushUsage,
    credentialKind: verifier.credentialKind,
    lookupStats: verifier.stats,
    userLifecycle,
    serviceAccountLifecycle,
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
