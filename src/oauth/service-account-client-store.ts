// SQL for confidential clients acting as service accounts (migration 0006).
import type { Ctx, Db, OauthServiceAccountClientsTable } from '../db/index.ts';

export type ServiceAccountClientRow = OauthServiceAccountClientsTable;

export async function insertServiceAccountClient(ctx: Ctx, row: ServiceAccountClientRow): Promise<void> {
  await ctx.db.insertInto('oauth_service_account_clients').values(row).execute();
}

export function selectServiceAccountClients(ctx: Ctx, orgId: string, serviceAccountId: string) {
  return ctx.db
    .selectFrom('oauth_service_account_clients')
    .select(['client_id', 'name', 'service_account_id', 'created_by', 'created_at'])
    .where('org_id', '=', orgId)
    .where('service_account_id', '=', serviceAccountId)
    .orderBy('client_id')
    .execute();
}

/** The client with its owner's state: whether the service account may act (not disabled). */
export function selectClientWithOwner(db: Db, clientId: string) {
  return db
    .selectFrom('oauth_service_account_clients as c')
    .innerJoin('service_accounts as s', (join) =>
      join.onRef('s.id', '=', 'c.service_account_id').onRef('s.org_id', '=', 'c.org_id'),
    )
    .innerJoin('orgs as o', 'o.id', 'c.org_id')
    .select([
      'c.client_id',
      'c.org_id',
      'c.service_account_id',
      'c.name',
      'c.secret_envelope',
      's.disabled_at',
      's.role',
      'o.slug as org_slug',
      'o.name as org_name',
    ])
    .where('c.client_id', '=', clientId)
    .executeTakeFirst();
}

export async function deleteServiceAccountClient(
  ctx: Ctx,
  orgId: string,
  serviceAccountId: string,
  clientId: string,
): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('oauth_service_account_clients')
    .where('client_id', '=', clientId)
    .where('org_id', '=', orgId)
    .where('service_account_id', '=', serviceAccountId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
