// SQL for orgs, users and memberships. Unique violations become tenancy errors here so the
// service never sees a driver error.

import type { ErrorDefinition } from '../core/errors.ts';
import { GatehouseError } from '../core/errors.ts';
import type { MembershipsTable, OrgsTable, UsersTable } from '../db/index.ts';
import { type Ctx, hotQuery, isUniqueViolation } from '../db/index.ts';

export type OrgRow = OrgsTable;
export type UserRow = UsersTable;
export type MembershipRow = MembershipsTable;

export async function insertUnique<T>(
  work: () => Promise<T>,
  onDuplicate: ErrorDefinition,
  field: string,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw new GatehouseError(onDuplicate, { field, cause: error });
    throw error;
  }
}

export function selectOrgByRef(ctx: Ctx, ref: string): Promise<OrgRow | undefined> {
  return ctx.db
    .selectFrom('orgs')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb('slug', '=', ref)]))
    .executeTakeFirst();
}

export async function insertOrg(ctx: Ctx, row: OrgRow): Promise<void> {
  await ctx.db.insertInto('orgs').values(row).execute();
}

export async function updateOrgRow(ctx: Ctx, id: string, patch: Partial<Omit<OrgRow, 'id'>>): Promise<void> {
  await ctx.db.updateTable('orgs').set(patch).where('id', '=', id).execute();
}

/**
 * The org (by id or slug) and the role an active user holds in it, in one query: the guard
 * runs this on every org-scoped request.
 */
export function selectUserAccess(ctx: Ctx, orgRef: string, userId: string) {
  return ctx.db
    .selectFrom('orgs')
    .innerJoin('memberships', 'memberships.org_id', 'orgs.id')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['orgs.id', 'orgs.slug', 'orgs.name', 'memberships.role'])
    .where((eb) => eb.or([eb('orgs.id', '=', orgRef), eb('orgs.slug', '=', orgRef)]))
    .where('memberships.user_id', '=', userId)
    .where('memberships.status', '=', 'active')
    .where('users.status', '=', 'active')
    .executeTakeFirst();
}

/** The org (by id or slug) and the role of an enabled service account in it, in one query. */
export function selectServiceAccountAccess(ctx: Ctx, orgRef: string, serviceAccountId: string) {
  return ctx.db
    .selectFrom('orgs')
    .innerJoin('service_accounts', 'service_accounts.org_id', 'orgs.id')
    .select(['orgs.id', 'orgs.slug', 'orgs.name', 'service_accounts.role'])
    .where((eb) => eb.or([eb('orgs.id', '=', orgRef), eb('orgs.slug', '=', orgRef)]))
    .where('service_accounts.id', '=', serviceAccountId)
    .where('service_accounts.disabled_at', 'is', null)
    .executeTakeFirst();
}

export function selectAllOrgs(ctx: Ctx) {
  return ctx.db.selectFrom('orgs').select(['id', 'slug', 'name']).orderBy('id').execute();
}

export function selectOrgsOfUser(ctx: Ctx, userId: string) {
  return ctx.db
    .selectFrom('memberships')
    .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
    .select(['orgs.id', 'orgs.slug', 'orgs.name', 'memberships.role', 'memberships.role_source'])
    .where('memberships.user_id', '=', userId)
    .orderBy('orgs.id')
    .execute();
}

/** The user's orgs that require SSO, with each one's break-glass admin. */
export function selectSsoRequiredOrgsOfUser(ctx: Ctx, userId: string) {
  return ctx.db
    .selectFrom('memberships')
    .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
    .select(['orgs.id', 'orgs.break_glass_user_id'])
    .where('memberships.user_id', '=', userId)
    .where('orgs.sso_required', '=', 1)
    .orderBy('orgs.id')
    .execute();
}

/**
 * A user by id, below Kysely (db/hot-query.ts): read on every token request that names one
 * (oidc-provider's findAccount on each refresh and code exchange), and by every member lookup.
 */
const userById = hotQuery(
  'gatehouse_user_by_id',
  (db) =>
    db
      .selectFrom('users')
      .select([
        'id',
        'email',
        'email_normalized',
        'name',
        'status',
        'password_hash',
        'created_at',
        'updated_at',
      ])
      .where('id', '=', ''),
  (values): UserRow => ({
    id: values[0] as string,
    email: values[1] as string,
    email_normalized: values[2] as string,
    name: values[3] as string,
    status: values[4] as string,
    password_hash: values[5] as string | null,
    created_at: values[6] as number,
    updated_at: values[7] as number,
  }),
);

export function selectUserById(ctx: Ctx, id: string): UserRow | undefined | Promise<UserRow | undefined> {
  return userById(ctx, [id]);
}

export function selectUserByEmail(ctx: Ctx, emailNormalized: string): Promise<UserRow | undefined> {
  return ctx.db
    .selectFrom('users')
    .selectAll()
    .where('email_normalized', '=', emailNormalized)
    .executeTakeFirst();
}

export async function insertUser(ctx: Ctx, row: UserRow): Promise<void> {
  await ctx.db.insertInto('users').values(row).execute();
}

export async function updateUserRow(
  ctx: Ctx,
  id: string,
  patch: Partial<Omit<UserRow, 'id'>>,
): Promise<void> {
  await ctx.db.updateTable('users').set(patch).where('id', '=', id).execute();
}

export async function countUsers(ctx: Ctx): Promise<number> {
  const row = await ctx.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function selectMembership(
  ctx: Ctx,
  orgId: string,
  userId: string,
): Promise<MembershipRow | undefined> {
  return ctx.db
    .selectFrom('memberships')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export async function insertMembership(ctx: Ctx, row: MembershipRow): Promise<void> {
  await ctx.db.insertInto('memberships').values(row).execute();
}

export async function updateMembershipRole(
  ctx: Ctx,
  orgId: string,
  userId: string,
  role: string,
  source: string,
  now: number,
  /** Why SSO decided this role (the role explanation); null for a role set by hand. */
  reasonJson: string | null = null,
): Promise<void> {
  await ctx.db
    .updateTable('memberships')
    .set({ role, role_source: source, role_reason_json: reasonJson, updated_at: now })
    .where('org_id', '=', orgId)
    .where('user_id', '=', userId)
    .execute();
}

export async function deleteMembership(ctx: Ctx, orgId: string, userId: string): Promise<void> {
  await ctx.db.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
  await ctx.db
    .deleteFrom('group_members')
    .where('user_id', '=', userId)
    .where('group_id', 'in', (eb) => eb.selectFrom('groups').select('id').where('org_id', '=', orgId))
    .execute();
}

export async function countActiveAdmins(ctx: Ctx, orgId: string): Promise<number> {
  const row = await ctx.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('memberships.org_id', '=', orgId)
    .where('memberships.role', '=', 'admin')
    .where('memberships.status', '=', 'active')
    .where('users.status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countMembershipsOfUser(ctx: Ctx, userId: string): Promise<number> {
  const row = await ctx.db
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface MemberListFilter {
  orgId: string;
  after?: string;
  role?: string;
  status?: string;
  limit: number;
}

export function selectMembers(ctx: Ctx, filter: MemberListFilter) {
  let query = ctx.db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select([
      'users.id',
      'users.email',
      'users.name',
      'users.status',
      'users.created_at as user_created_at',
      'memberships.role',
      'memberships.role_source',
      'memberships.status as membership_status',
      'memberships.created_at',
    ])
    .where('memberships.org_id', '=', filter.orgId);
  if (filter.after) query = query.where('users.id', '>', filter.after);
  if (filter.role) query = query.where('memberships.role', '=', filter.role);
  if (filter.status) query = query.where('users.status', '=', filter.status);
  return query.orderBy('users.id').limit(filter.limit).execute();
}

export function selectServiceAccountInOrg(ctx: Ctx, orgId: string, id: string) {
  return ctx.db
    .selectFrom('service_accounts')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}
