// SQL for SCIM resources (SPEC §5). Users: this capability's `scim_users` and
// `scim_user_emails` rows. Groups: tenancy's `groups` of source `scim` and their members,
// read here (with the filter compiled to SQL) and written through the tenancy service only.
// Every query names the org, so an id of another org reads as absent. Lists are ordered by
// id, so startIndex/count pages neither skip nor repeat while nothing changes.
import type { RawBuilder, SqlBool } from 'kysely';
import { type Ctx, isUniqueViolation, type ScimUsersTable } from '../db/index.ts';
import type { ColumnMap } from './filter/compile.ts';

export type ScimUserRow = ScimUsersTable;

/** Where each filterable User attribute lives (attributes.ts marks which are filterable). */
export const USER_COLUMNS: ColumnMap = {
  resourceKey: 'su.user_id',
  scopeKey: 'su.org_id',
  scalars: {
    id: { column: 'su.user_id', kind: 'text' },
    userName: { column: 'su.user_name_normalized', kind: 'text', normalized: true },
    externalId: { column: 'su.external_id', kind: 'text' },
    displayName: { column: 'su.display_name_normalized', kind: 'text', normalized: true },
    active: { column: 'su.active', kind: 'boolean' },
    'meta.lastModified': { column: 'su.updated_at', kind: 'instant' },
  },
  multiValued: {
    emails: {
      table: 'scim_user_emails',
      alias: 'sue',
      parentKey: 'user_id',
      scopeKey: 'org_id',
      subs: { value: { column: 'sue.value_normalized', kind: 'text', normalized: true } },
    },
  },
};

/** The same for Group. Group ids are unique across orgs, so members need no org column. */
export const GROUP_COLUMNS: ColumnMap = {
  resourceKey: 'g.id',
  scalars: {
    id: { column: 'g.id', kind: 'text' },
    externalId: { column: 'g.external_id', kind: 'text' },
    displayName: { column: 'g.name_normalized', kind: 'text', normalized: true },
    'meta.lastModified': { column: 'g.updated_at', kind: 'instant' },
  },
  multiValued: {
    members: {
      table: 'group_members',
      alias: 'gm',
      parentKey: 'group_id',
      subs: { value: { column: 'gm.user_id', kind: 'text' } },
    },
  },
};

export interface Page {
  /** 0-based: startIndex - 1. */
  readonly offset: number;
  readonly limit: number;
}

/** Thrown for a userName already used in the org; the service renders it as 409 uniqueness. */
export class UserNameTaken extends Error {}

function translateUnique(error: unknown): never {
  if (isUniqueViolation(error)) throw new UserNameTaken('userName taken', { cause: error });
  throw error;
}

// Users

export async function insertScimUser(ctx: Ctx, row: ScimUserRow, emails: readonly string[]): Promise<void> {
  try {
    await ctx.db.insertInto('scim_users').values(row).execute();
  } catch (error) {
    translateUnique(error);
  }
  await insertEmails(ctx, row.org_id, row.user_id, emails);
}

async function insertEmails(
  ctx: Ctx,
  orgId: string,
  userId: string,
  emails: readonly string[],
): Promise<void> {
  if (emails.length === 0) return;
  await ctx.db
    .insertInto('scim_user_emails')
    .values(
      emails.map((value, position) => ({
        org_id: orgId,
        user_id: userId,
        position,
        value_normalized: value,
      })),
    )
    .execute();
}

/** Writes the new state if the row is still at `expectedVersion`; false when another write got there first. */
export async function updateScimUser(
  ctx: Ctx,
  row: ScimUserRow,
  expectedVersion: number,
  emails: readonly string[],
): Promise<boolean> {
  let updated: bigint;
  try {
    const result = await ctx.db
      .updateTable('scim_users')
      .set({
        user_name: row.user_name,
        user_name_normalized: row.user_name_normalized,
        external_id: row.external_id,
        display_name_normalized: row.display_name_normalized,
        active: row.active,
        document_json: row.document_json,
        version: row.version,
        updated_at: row.updated_at,
      })
      .where('org_id', '=', row.org_id)
      .where('user_id', '=', row.user_id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    updated = result.numUpdatedRows;
  } catch (error) {
    translateUnique(error);
  }
  if (Number(updated) === 0) return false;
  await ctx.db
    .deleteFrom('scim_user_emails')
    .where('org_id', '=', row.org_id)
    .where('user_id', '=', row.user_id)
    .execute();
  await insertEmails(ctx, row.org_id, row.user_id, emails);
  return true;
}

export async function deleteScimUser(ctx: Ctx, orgId: string, userId: string): Promise<void> {
  await ctx.db
    .deleteFrom('scim_user_emails')
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .execute();
  await ctx.db.deleteFrom('scim_users').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
}

export function selectScimUser(ctx: Ctx, orgId: string, userId: string): Promise<ScimUserRow | undefined> {
  return ctx.db
    .selectFrom('scim_users')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export async function selectScimUsers(
  ctx: Ctx,
  orgId: string,
  condition: RawBuilder<SqlBool> | undefined,
  page: Page,
): Promise<{ total: number; rows: ScimUserRow[] }> {
  const base = ctx.db
    .selectFrom('scim_users as su')
    .where('su.org_id', '=', orgId)
    .$if(condition !== undefined, (q) => q.where(condition as RawBuilder<SqlBool>));
  const [count, rows] = await Promise.all([
    base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    page.limit === 0
      ? Promise.resolve([])
      : base.selectAll('su').orderBy('su.user_id').limit(page.limit).offset(page.offset).execute(),
  ]);
  return { total: Number(count.n), rows };
}

/** The SCIM groups each user is in, for the read-only `groups` attribute. */
export async function selectGroupsOfUsers(
  ctx: Ctx,
  orgId: string,
  userIds: readonly string[],
): Promise<Map<string, { id: string; name: string }[]>> {
  const out = new Map<string, { id: string; name: string }[]>();
  if (userIds.length === 0) return out;
  const rows = await ctx.db
    .selectFrom('group_members as gm')
    .innerJoin('groups as g', 'g.id', 'gm.group_id')
    .select(['gm.user_id', 'g.id', 'g.name'])
    .where('g.org_id', '=', orgId)
    .where('g.source', '=', 'scim')
    .where('gm.user_id', 'in', userIds)
    .orderBy('g.id')
    .execute();
  for (const row of rows)
    out.set(row.user_id, [...(out.get(row.user_id) ?? []), { id: row.id, name: row.name }]);
  return out;
}

// Groups

const GROUP_FIELDS = [
  'g.id',
  'g.name',
  'g.external_id',
  'g.version',
  'g.created_at',
  'g.updated_at',
] as const;

export interface ScimGroupRow {
  id: string;
  name: string;
  external_id: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}

export function selectScimGroup(ctx: Ctx, orgId: string, groupId: string): Promise<ScimGroupRow | undefined> {
  return ctx.db
    .selectFrom('groups as g')
    .select(GROUP_FIELDS)
    .where('g.org_id', '=', orgId)
    .where('g.source', '=', 'scim')
    .where('g.id', '=', groupId)
    .executeTakeFirst();
}

export async function selectScimGroups(
  ctx: Ctx,
  orgId: string,
  condition: RawBuilder<SqlBool> | undefined,
  page: Page,
): Promise<{ total: number; rows: ScimGroupRow[] }> {
  const base = ctx.db
    .selectFrom('groups as g')
    .where('g.org_id', '=', orgId)
    .where('g.source', '=', 'scim')
    .$if(condition !== undefined, (q) => q.where(condition as RawBuilder<SqlBool>));
  const [count, rows] = await Promise.all([
    base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
    page.limit === 0
      ? Promise.resolve([])
      : base.select(GROUP_FIELDS).orderBy('g.id').limit(page.limit).offset(page.offset).execute(),
  ]);
  return { total: Number(count.n), rows };
}

/** Members of the groups, with the name SCIM shows as `display`, in a stable order. */
export async function selectMembersOfGroups(
  ctx: Ctx,
  groupIds: readonly string[],
): Promise<Map<string, { id: string; name: string }[]>> {
  const out = new Map<string, { id: string; name: string }[]>();
  if (groupIds.length === 0) return out;
  const rows = await ctx.db
    .selectFrom('group_members as gm')
    .innerJoin('users as u', 'u.id', 'gm.user_id')
    .select(['gm.group_id', 'u.id', 'u.name'])
    .where('gm.group_id', 'in', groupIds)
    .orderBy('u.id')
    .execute();
  for (const row of rows)
    out.set(row.group_id, [...(out.get(row.group_id) ?? []), { id: row.id, name: row.name }]);
  return out;
}
