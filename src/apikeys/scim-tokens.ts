// SCIM tokens (SPEC §2, §5): what an org's admin gives its identity provider so it can
// provision users and groups at /scim/v2. `gks_` format (core/secrets), shown once, stored as
// a digest, bound to one org, optionally expiring, revocable; every change audited in its
// transaction. The credential kind accepts them on the SCIM surface only, and nothing else
// accepts them: a leaked SCIM token cannot call /v1. Verified tokens are cached, and a revoked
// one is dropped from every node's cache at once (notifications on `scim_tokens`).
//
// What a token acts as: the org's provisioning, with the admin role and only the scim:write
// scope. The principal is a service account by kind (SPEC §2 knows users and service
// accounts) whose id is the token's own.
import type { AuditService } from '../audit/index.ts';
import type { CredentialKind, ResolvedCredential } from '../authn/index.ts';
import { isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { constantTimeEqualDigests, digestSecret, issueToken, parseToken } from '../core/secrets.ts';
import { type Ctx, createSharedCache, type Notifications, withTx } from '../db/index.ts';
import { apiKeyErrors } from './errors.ts';
import * as store from './scim-token-store.ts';
import { type ApiKeyStatus, credentialStatus, optionalTime } from './views.ts';

export const SCIM_TOKEN_CHANNEL = 'scim_tokens';
const PREFIX = 'gks_';

export interface ScimToken {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly status: ApiKeyStatus;
  readonly created_at: string;
  readonly created_by: string | null;
  readonly expires_at: string | null;
  readonly revoked_at: string | null;
}

export interface IssuedScimToken {
  readonly scimToken: ScimToken;
  /** The secret, shown once. */
  readonly token: string;
}

export interface ScimTokensDeps {
  readonly audit: AuditService;
  readonly notifications: Notifications;
  readonly cache: { readonly enabled: boolean; readonly ttlMs: number; readonly maxEntries: number };
}

function toScimToken(row: store.ScimTokenRow, now: number): ScimToken {
  return {
    id: row.id,
    name: row.name,
    prefix: `${PREFIX}${row.key_id}`,
    status: credentialStatus(row, now),
    created_at: isoTime(row.created_at),
    created_by: row.created_by,
    expires_at: optionalTime(row.expires_at),
    revoked_at: optionalTime(row.revoked_at),
  };
}

const refused = (definition = apiKeyErrors.scimTokenRefused) =>
  new GatehouseError(definition, { field: 'Authorization' });

export function createScimTokensService(deps: ScimTokensDeps) {
  const { audit } = deps;
  const verified = createSharedCache<ResolvedCredential>(deps.notifications, SCIM_TOKEN_CHANNEL, {
    maxEntries: deps.cache.enabled ? deps.cache.maxEntries : 0,
  });

  async function createScimToken(
    ctx: Ctx,
    orgId: string,
    input: { name: string; expiresAt?: number },
  ): Promise<IssuedScimToken> {
    const now = ctx.clock.now();
    if (input.expiresAt !== undefined && input.expiresAt <= now)
      throw new GatehouseError(apiKeyErrors.invalidExpiry, { field: 'expires_at' });
    const issued = issueToken(PREFIX);
    const row: store.ScimTokenRow = {
      id: newId('sct', now),
      key_id: issued.keyId,
      secret_digest: issued.digest,
      org_id: orgId,
      name: input.name.trim(),
      created_by: ctx.principal?.kind === 'user' ? ctx.principal.id : null,
      created_at: now,
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
    };
    return withTx(ctx, async (tx) => {
      await store.insertScimToken(tx, row);
      const scimToken = toScimToken(row, now);
      await audit.append(tx, {
        orgId,
        action: 'scim_token.created',
        target: { kind: 'scim_token', id: row.id },
        data: { name: row.name, prefix: scimToken.prefix, expires_at: scimToken.expires_at },
      });
      return { scimToken, token: issued.token };
    });
  }

  async function listScimTokens(ctx: Ctx, orgId: string, includeRevoked: boolean): Promise<ScimToken[]> {
    const now = ctx.clock.now();
    return (await store.selectScimTokens(ctx, orgId, includeRevoked)).map((row) => toScimToken(row, now));
  }

  async function revokeScimToken(ctx: Ctx, orgId: string, id: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const row = await store.selectScimTokenInOrg(tx, orgId, id);
      if (!row) throw new GatehouseError(apiKeyErrors.scimTokenNotFound, { field: 'scim_token_id' });
      if (!(await store.revokeScimTokenRow(tx, row.id, tx.clock.now()))) return;
      await audit.append(tx, {
        orgId,
        action: 'scim_token.revoked',
        target: { kind: 'scim_token', id: row.id },
        data: { name: row.name },
      });
      await verified.invalidate(tx, row.id);
    });
  }

  async function verify(ctx: Ctx, token: string): Promise<ResolvedCredential | GatehouseError> {
    const now = ctx.clock.now();
    const digest = digestSecret(token);
    const cached = verified.get(ctx, digest, now);
    if (cached !== undefined) return cached;
    const parsed = parseToken(token, PREFIX);
    if (!parsed.ok) return refused(apiKeyErrors.scimTokenMalformed);
    const ticket = verified.ticket();
    const row = await store.selectScimTokenForAuth(ctx, parsed.keyId);
    if (!row || !constantTimeEqualDigests(digest, row.secret_digest)) return refused();
    if (credentialStatus(row, now) !== 'active') return refused();
    const resolved: ResolvedCredential = {
      principal: {
        kind: 'service_account',
        id: row.id,
        orgRestriction: row.org_id,
        scopes: ['scim:write'],
        authMethod: 'scim_token',
        credentialId: row.id,
      },
      boundOrg: { org: { id: row.org_id, slug: row.org_slug, name: row.org_name }, role: 'admin' },
    };
    const until = Math.min(now + deps.cache.ttlMs, row.expires_at ?? Number.POSITIVE_INFINITY);
    verified.set(ctx, digest, resolved, until, [row.id, row.org_id], ticket, now);
    return resolved;
  }

  const credentialKind: CredentialKind = {
    id: 'scim_token',
    transport: 'header',
    // Only on the SCIM surface; elsewhere a gks_ token is no credential at all (401).
    surfaces: ['scim'],
    extract: (presented) => (presented.bearer?.startsWith(PREFIX) ? presented.bearer : undefined),
    resolve: verify,
  };

  return { createScimToken, listScimTokens, revokeScimToken, credentialKind };
}

export type ScimTokensService = ReturnType<typeof createScimTokensService>;
