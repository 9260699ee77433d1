// SQL for projects, groups (with their members) and service accounts. Every query names
// the org, so an id from another org reads as absent. Unique violations are translated by
// the callers through store.insertUnique.
import type { Ctx, GroupsTable, ProjectsTable, ServiceAccountsTable } from '../db/index.ts';

export type ProjectRow = ProjectsTable;
export type GroupRow = GroupsTable;
export type ServiceAccountRow = ServiceAccountsTable;

export interface ListFilter {
  orgId: string;
  /** The last id of the previous page. */
  after?: string;
  limit: number;
}

// Projects

export async function insertProject(ctx: Ctx, row: ProjectRow): Promise<void> {
  await ctx.db.insertInto('projects').values(row).execute();
}

export function selectProject(ctx: Ctx, orgId: string, id: string): Promise<ProjectRow | undefined> {
  return ctx.db
    .selectFrom('projects')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function selectProjects(ctx: Ctx, filter: ListFilter): Promise<ProjectRow[]> {
  let query = ctx.db.selectFrom('projects').selectAll().where('org_id', '=', filter.orgId);
  if (filter.after) query = query.where('id', '>', filter.after);
  return query.orderBy('id').limit(filter.limit).execute();
}

export async function updateProjectRow(
  ctx: Ctx,
  orgId: string,
  id: string,
  patch: Partial<Pick<ProjectRow, 'name' | 'name_normalized' | 'description' | 'updated_at'>>,
): Promise<void> {
  await ctx.db.updateTable('projects').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute();
}

/** False when no such project was there to delete (a concurrent delete won). */
export async function deleteProjectRow(ctx: Ctx, orgId: string, id: string): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('projects')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

// Groups

export async function insertGroup(ctx: Ctx, row: GroupRow): Promise<void> {
  await ctx.db.insertInto('groups').values(row).execute();
}

export function selectGroup(ctx: Ctx, orgId: string, id: string): Promise<GroupRow | undefined> {
  return ctx.db
    .selectFrom('groups')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function selectGroups(ctx: Ctx, filter: ListFilter): Promise<GroupRow[]> {
  let query = ctx.db.selectFrom('groups').selectAll().where('org_id', '=', filter.orgId);
  if (filter.after) query = query.where('id', '>', filter.after);
  return query.orderBy('id').limit(filter.limit).execute();
}

/** False when no such group was there to delete. Its members go with it. */
/** Every group of the org, unpaged: SSO sign-in matches the IdP's group names against them. */
export function selectAllGroupsOfOrg(ctx: Ctx, orgId: string): Promise<GroupRow[]> {
  return ctx.db.selectFrom('groups').selectAll().where('org_id', '=', orgId).execute();
}

export async function deleteGroupRow(ctx: Ctx, orgId: string, id: string): Promise<boolean> {
  // The foreign key cascades too; deleting the members first keeps that from being load-bearing.
  await ctx.db
    .deleteFrom('group_members')
    .where('group_id', 'in', (eb) => eb.selectFrom('groups').select('id').where('org_id', '=', orgId))
    .where('group_id', '=', id)
    .execute();
  const result = await ctx.db
    .deleteFrom('groups')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Adds the user to the group; false when they were already in it. */
export async function insertGroupMember(
  ctx: Ctx,
  groupId: string,
  userId: string,
  now: number,
): Promise<boolean> {
  const result = await ctx.db
    .insertInto('group_members')
    .values({ group_id: groupId, user_id: userId, created_at: now })
    .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Removes the user from the group; false when they were not in it. */
export async function deleteGroupMember(ctx: Ctx, groupId: string, userId: string): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('group_members')
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function selectGroupMembers(ctx: Ctx, groupId: string, filter: Omit<ListFilter, 'orgId'>) {
  let query = ctx.db
    .selectFrom('group_members')
    .innerJoin('users', 'users.id', 'group_members.user_id')
    .select(['users.id', 'users.email', 'users.name', 'users.status', 'group_members.created_at'])
    .where('group_members.group_id', '=', groupId);
  if (filter.after) query = query.where('users.id', '>', filter.after);
  return query.orderBy('users.id').limit(filter.limit).execute();
}

// Service accounts (the single-row read is store.selectServiceAccountInOrg, shared with access.ts)

export async function insertServiceAccount(ctx: Ctx, row: ServiceAccountRow): Promise<void> {
  await ctx.db.insertInto('service_accounts').values(row).execute();
}

export function selectServiceAccounts(ctx: Ctx, filter: ListFilter): Promise<ServiceAccountRow[]> {
  let query = ctx.db.selectFrom('service_accounts').selectAll().where('org_id', '=', filter.orgId);
  if (filter.after) query = query.where('id', '>', filter.after);
  return query.orderBy('id').limit(filter.limit).execute();
}

export async function updateServiceAccountRow(
  ctx: Ctx,
  orgId: string,
  id: string,
  patch: Partial<Pick<ServiceAccountRow, 'name' | 'name_normalized' | 'role' | 'disabled_at'>>,
): Promise<void> {
  await ctx.db
    .updateTable('service_accounts')
    .set(patch)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .execute();
}

/** False when no such service account was there to delete. */
export async function deleteServiceAccountRow(ctx: Ctx, orgId: string, id: string): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('service_accounts')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
