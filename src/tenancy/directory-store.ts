// SQL for what an IdP's directory changes in bulk over SCIM: membership status, group rows
// with their externalId and version, and group members by the thousand. Lists of ids are
// sent in chunks small enough for either database's limit on bound parameters.
import type { Ctx, GroupsTable, MembershipsTable, UsersTable } from '../db/index.ts';

/** Ids per statement: 3 parameters a row stays far below SQLite's 32,766 and PostgreSQL's 65,535. */
const CHUNK = 1000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Inserts the account unless its email is taken; true when this inserted it. */
export async function insertUserIfNew(ctx: Ctx, row: UsersTable): Promise<boolean> {
  const inserted = await ctx.db
    .insertInto('users')
    .values(row)
    .onConflict((oc) => oc.column('email_normalized').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Inserts the membership with the org's default role, read in the same statement; answers the role. */
export async function insertMembershipWithDefaultRole(
  ctx: Ctx,
  row: Omit<MembershipsTable, 'role'>,
): Promise<string> {
  const inserted = await ctx.db
    .insertInto('memberships')
    .columns([
      'org_id',
      'user_id',
      'role',
      'role_source',
      'role_reason_json',
      'status',
      'created_at',
      'updated_at',
    ])
    .expression((eb) =>
      eb
        .selectFrom('orgs')
        .select((o) => [
          o.val(row.org_id).as('org_id'),
          o.val(row.user_id).as('user_id'),
          'orgs.default_role',
          o.val(row.role_source).as('role_source'),
          o.val(row.role_reason_json).as('role_reason_json'),
          o.val(row.status).as('status'),
          o.val(row.created_at).as('created_at'),
          o.val(row.updated_at).as('updated_at'),
        ])
        .where('orgs.id', '=', row.org_id),
    )
    .returning('role')
    .executeTakeFirstOrThrow();
  return inserted.role;
}

export async function updateMembershipStatus(
  ctx: Ctx,
  orgId: string,
  userId: string,
  status: 'active' | 'suspended',
  now: number,
): Promise<void> {
  await ctx.db
    .updateTable('memberships')
    .set({ status, updated_at: now })
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .execute();
}

/** Of `userIds`, those who are members of the org (in any status). */
export async function selectMembersAmong(
  ctx: Ctx,
  orgId: string,
  userIds: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks(userIds)) {
    const rows = await ctx.db
      .selectFrom('memberships')
      .select('user_id')
      .where('org_id', '=', orgId)
      .where('user_id', 'in', part)
      .execute();
    for (const row of rows) found.add(row.user_id);
  }
  return found;
}

/** The memberships of `userIds` in the org whose role is decided by `roleSource`. */
export async function selectMembershipsBySource(
  ctx: Ctx,
  orgId: string,
  userIds: readonly string[],
  roleSource: string,
): Promise<{ user_id: string; role: string; role_reason_json: string | null }[]> {
  const out: { user_id: string; role: string; role_reason_json: string | null }[] = [];
  for (const part of chunks(userIds)) {
    out.push(
      ...(await ctx.db
        .selectFrom('memberships')
        .select(['user_id', 'role', 'role_reason_json'])
        .where('org_id', '=', orgId)
        .where('role_source', '=', roleSource)
        .where('user_id', 'in', part)
        .execute()),
    );
  }
  return out;
}

/** The names of the org's groups each of `userIds` is in. */
export async function selectGroupNamesOfUsers(
  ctx: Ctx,
  orgId: string,
  userIds: readonly string[],
): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>();
  for (const part of chunks(userIds)) {
    const rows = await ctx.db
      .selectFrom('group_members as gm')
      .innerJoin('groups as g', 'g.id', 'gm.group_id')
      .select(['gm.user_id', 'g.name'])
      .where('g.org_id', '=', orgId)
      .where('gm.user_id', 'in', part)
      .execute();
    for (const row of rows) names.set(row.user_id, [...(names.get(row.user_id) ?? []), row.name]);
  }
  return names;
}

export async function selectGroupMemberIds(ctx: Ctx, groupId: string): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('group_members')
    .select('user_id')
    .where('group_id', '=', groupId)
    .execute();
  return rows.map((row) => row.user_id);
}

/** Adds the members not there yet; answers the ids actually added. */
export async function insertGroupMembers(
  ctx: Ctx,
  groupId: string,
  userIds: readonly string[],
  now: number,
): Promise<string[]> {
  const added: string[] = [];
  for (const part of chunks(userIds)) {
    const rows = await ctx.db
      .insertInto('group_members')
      .values(part.map((user_id) => ({ group_id: groupId, user_id, created_at: now })))
      .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
      .returning('user_id')
      .execute();
    for (const row of rows) added.push(row.user_id);
  }
  return added;
}

/** Removes the listed members that are there; answers the ids actually removed. */
export async function deleteGroupMembers(
  ctx: Ctx,
  groupId: string,
  userIds: readonly string[],
): Promise<string[]> {
  const removed: string[] = [];
  for (const part of chunks(userIds)) {
    const rows = await ctx.db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('user_id', 'in', part)
      .returning('user_id')
      .execute();
    for (const row of rows) removed.push(row.user_id);
  }
  return removed;
}

export async function updateGroupRow(
  ctx: Ctx,
  orgId: string,
  groupId: string,
  patch: Partial<Pick<GroupsTable, 'name' | 'name_normalized' | 'external_id' | 'updated_at'>>,
): Promise<void> {
  await ctx.db
    .updateTable('groups')
    .set((eb) => ({ ...patch, version: eb('version', '+', 1) }))
    .where('org_id', '=', orgId)
    .where('id', '=', groupId)
    .execute();
}
