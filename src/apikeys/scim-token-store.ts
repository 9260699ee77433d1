// SQL for SCIM tokens: the lookup behind a presented token (with its org), and the rows an
// admin lists and revokes.
import type { Ctx, ScimTokensTable } from '../db/index.ts';

export type ScimTokenRow = ScimTokensTable;

export async function insertScimToken(ctx: Ctx, row: ScimTokenRow): Promise<void> {
  await ctx.db.insertInto('scim_tokens').values(row).execute();
}

export function selectScimTokenForAuth(ctx: Ctx, keyId: string) {
  return ctx.db
    .selectFrom('scim_tokens as t')
    .innerJoin('orgs as o', 'o.id', 't.org_id')
    .select([
      't.id',
      't.secret_digest',
      't.org_id',
      't.expires_at',
      't.revoked_at',
      'o.slug as org_slug',
      'o.name as org_name',
    ])
    .where('t.key_id', '=', keyId)
    .executeTakeFirst();
}

export function selectScimTokens(ctx: Ctx, orgId: string, includeRevoked: boolean): Promise<ScimTokenRow[]> {
  let query = ctx.db.selectFrom('scim_tokens').selectAll().where('org_id', '=', orgId);
  if (!includeRevoked) query = query.where('revoked_at', 'is', null);
  return query.orderBy('id').execute();
}

export function selectScimTokenInOrg(ctx: Ctx, orgId: string, id: string): Promise<ScimTokenRow | undefined> {
  return ctx.db
    .selectFrom('scim_tokens')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Marks the token revoked; false when it already was. */
export async function revokeScimTokenRow(ctx: Ctx, id: string, now: number): Promise<boolean> {
  const result = await ctx.db
    .updateTable('scim_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
