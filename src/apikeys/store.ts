// SQL for API keys. The lookup behind every uncached key is one indexed query that also
// reads what the answer needs: the org, the owner's live role there and whether the owner
// may act (user active, service account enabled).
import { type ApiKeysTable, type Ctx, type Db, hotQuery, type RowValues } from '../db/index.ts';

export type ApiKeyRow = ApiKeysTable;

export async function insertApiKey(ctx: Ctx, row: ApiKeyRow): Promise<void> {
  await ctx.db.insertInto('api_keys').values(row).execute();
}

export function authLookupQuery(db: Db, keyId: string) {
  return db
    .selectFrom('api_keys as k')
    .innerJoin('orgs as o', 'o.id', 'k.org_id')
    .leftJoin('users as u', 'u.id', 'k.user_id')
    .leftJoin('memberships as m', (join) =>
      join.onRef('m.org_id', '=', 'k.org_id').onRef('m.user_id', '=', 'k.user_id'),
    )
    .leftJoin('service_accounts as s', (join) =>
      join.onRef('s.id', '=', 'k.service_account_id').onRef('s.org_id', '=', 'k.org_id'),
    )
    .select([
      'k.id',
      'k.secret_digest',
      'k.org_id',
      'k.user_id',
      'k.service_account_id',
      'k.read_only',
      'k.expires_at',
      'k.revoked_at',
      'o.slug as org_slug',
      'o.name as org_name',
      'u.status as user_status',
      'm.role as member_role',
      's.role as service_account_role',
      's.disabled_at as service_account_disabled_at',
    ])
    .where('k.key_id', '=', keyId);
}

export type AuthLookupRow = NonNullable<
  Awaited<ReturnType<ReturnType<typeof authLookupQuery>['executeTakeFirst']>>
>;

/** The lookup's row from its values, in the order authLookupQuery selects them. */
export function decodeAuthLookupRow(values: RowValues): AuthLookupRow {
  return {
    id: values[0] as string,
    secret_digest: values[1] as string,
    org_id: values[2] as string,
    user_id: values[3] as string | null,
    service_account_id: values[4] as string | null,
    read_only: values[5] as number,
    expires_at: values[6] as number | null,
    revoked_at: values[7] as number | null,
    org_slug: values[8] as string,
    org_name: values[9] as string,
    user_status: values[10] as string | null,
    member_role: values[11] as string | null,
    service_account_role: values[12] as string | null,
    service_account_disabled_at: values[13] as number | null,
  };
}

/**
 * The row behind a presented key id, on the path of every uncached key: run below Kysely
 * (db/hot-query.ts), synchronously on SQLite when it can be.
 */
const keyForAuth = hotQuery(
  'gatehouse_api_key_for_auth',
  (db) => authLookupQuery(db, ''),
  decodeAuthLookupRow,
);

export function selectKeyForAuth(
  ctx: Ctx,
  keyId: string,
): AuthLookupRow | undefined | Promise<AuthLookupRow | undefined> {
  return keyForAuth(ctx, [keyId]);
}

/** Whether the org has this service account (a key can be made for it). */
export async function serviceAccountExists(ctx: Ctx, orgId: string, id: string): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('service_accounts')
    .select('id')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row !== undefined;
}

export function selectApiKeyInOrg(ctx: Ctx, orgId: string, id: string): Promise<ApiKeyRow | undefined> {
  return ctx.db
    .selectFrom('api_keys')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export interface ApiKeyListFilter {
  orgId: string;
  owner?: { userId?: string; serviceAccountId?: string };
  includeRevoked: boolean;
  after?: string;
  limit: number;
}

export function selectApiKeys(ctx: Ctx, filter: ApiKeyListFilter): Promise<ApiKeyRow[]> {
  let query = ctx.db.selectFrom('api_keys').selectAll().where('org_id', '=', filter.orgId);
  if (filter.owner?.userId) query = query.where('user_id', '=', filter.owner.userId);
  if (filter.owner?.serviceAccountId)
    query = query.where('service_account_id', '=', filter.owner.serviceAccountId);
  if (!filter.includeRevoked) query = query.where('revoked_at', 'is', null);
  if (filter.after) query = query.where('id', '>', filter.after);
  return query.orderBy('id').limit(filter.limit).execute();
}

/** Revokes the key if it is not revoked yet; true when this call revoked it. */
export async function revokeApiKeyRow(ctx: Ctx, id: string, reason: string, now: number): Promise<boolean> {
  const result = await ctx.db
    .updateTable('api_keys')
    .set({ revoked_at: now, revoke_reason: reason })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Revokes every live key of an owner (in one org, or everywhere); returns the revoked keys. */
export async function revokeKeysOfOwner(
  ctx: Ctx,
  owner: { userId?: string; serviceAccountId?: string; orgId?: string },
  reason: string,
  now: number,
): Promise<{ id: string; org_id: string }[]> {
  if (!owner.userId && !owner.serviceAccountId) throw new Error('revokeKeysOfOwner needs an owner');
  let query = ctx.db
    .updateTable('api_keys')
    .set({ revoked_at: now, revoke_reason: reason })
    .where('revoked_at', 'is', null);
  if (owner.userId) query = query.where('user_id', '=', owner.userId);
  if (owner.serviceAccountId) query = query.where('service_account_id', '=', owner.serviceAccountId);
  if (owner.orgId) query = query.where('org_id', '=', owner.orgId);
  return query.returning(['id', 'org_id']).execute();
}

/**
 * Marks a key as replaced if it is still neither replaced nor revoked; false when another
 * transaction rotated or revoked it after the caller read it. The condition is what stops two
 * concurrent rotations on PostgreSQL (read committed) from both issuing a successor: the
 * second waits for the first's row lock, then finds the key already replaced.
 */
export async function markRotated(
  ctx: Ctx,
  id: string,
  patch: { replaced_by: string; expires_at: number },
): Promise<boolean> {
  const result = await ctx.db
    .updateTable('api_keys')
    .set(patch)
    .where('id', '=', id)
    .where('replaced_by', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Writes a batch of last-used times; a time never moves backwards. */
export async function updateLastUsed(ctx: Ctx, usage: ReadonlyMap<string, number>): Promise<void> {
  for (const [id, at] of usage) {
    await ctx.db
      .updateTable('api_keys')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}
