// Users and memberships (SPEC §1). A manual role change is pinned (source `manual`); role
// changes, suspension and removal tell the lifecycle listeners inside the same transaction,
// so the user's sessions and keys stop working in the same commit.
import type { AuditService } from '../audit/index.ts';
import type { Role } from '../authz/index.ts';
import { isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { listCursorAfter, type Page, toPage } from '../core/pagination.ts';
import { hashPassword } from '../core/passwords.ts';
import { type Ctx, withTx } from '../db/index.ts';
import { tenancyErrors } from './errors.ts';
import type { UserLifecycleListener } from './lifecycle.ts';
import * as store from './store.ts';
import { checkEmail, checkPassword, normalizeEmail } from './validation.ts';

export type UserStatus = 'active' | 'suspended' | 'deprovisioned';

export interface User {
  id: string;
  email: string;
  name: string;
  status: UserStatus;
  created_at: string;
}

export interface Member extends User {
  role: Role;
  role_source: string;
  /** `active`, or `suspended` in this org by its IdP (SCIM), whatever the account's status. */
  membership_status: string;
  joined_at: string;
}

export function toUser(row: store.UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    status: row.status as UserStatus,
    created_at: isoTime(row.created_at),
  };
}

export interface NewMemberInput {
  email: string;
  name: string;
  role: Role;
  password?: string;
}

export function createMemberFunctions(audit: AuditService, listeners: readonly UserLifecycleListener[]) {
  /** Creates a user with no memberships; the caller's flow audits it and adds memberships. */
  async function createUser(
    ctx: Ctx,
    input: { email: string; name: string; passwordHash?: string },
  ): Promise<User> {
    const email = checkEmail(input.email);
    const passwordHash = input.passwordHash ?? null;
    const now = ctx.clock.now();
    const row: store.UserRow = {
      id: newId('usr', now),
      email,
      email_normalized: normalizeEmail(email),
      name: input.name.trim(),
      status: 'active',
      password_hash: passwordHash,
      created_at: now,
      updated_at: now,
    };
    await store.insertUnique(() => store.insertUser(ctx, row), tenancyErrors.userExists, 'email');
    return toUser(row);
  }

  async function addMember(ctx: Ctx, orgId: string, input: NewMemberInput): Promise<Member> {
    checkEmail(input.email);
    // Hash before the transaction: argon2 takes tens of milliseconds and must not hold locks.
    const passwordHash =
      input.password === undefined ? undefined : await hashPassword(checkPassword(input.password));
    return withTx(ctx, async (tx) => {
      const existing = await store.selectUserByEmail(tx, normalizeEmail(input.email));
      if (existing && input.password !== undefined)
        throw new GatehouseError(tenancyErrors.userExists, { field: 'password' });
      if (existing?.status === 'deprovisioned')
        throw new GatehouseError(tenancyErrors.userDeprovisioned, { field: 'email' });
      const user = existing
        ? toUser(existing)
        : await createUser(tx, { email: input.email, name: input.name, passwordHash });
      if (!existing) {
        await audit.append(tx, {
          orgId,
          action: 'user.created',
          target: { kind: 'user', id: user.id },
          data: { has_password: input.password !== undefined },
        });
      }
      const now = tx.clock.now();
      await store.insertUnique(
        () =>
          store.insertMembership(tx, {
            org_id: orgId,
            user_id: user.id,
            role: input.role,
            role_source: 'manual',
            role_reason_json: null,
            status: 'active',
            created_at: now,
            updated_at: now,
          }),
        tenancyErrors.memberExists,
        'email',
      );
      await audit.append(tx, {
        orgId,
        action: 'member.added',
        target: { kind: 'user', id: user.id },
        data: { role: input.role, role_source: 'manual' },
      });
      return {
        ...user,
        role: input.role,
        role_source: 'manual',
        membership_status: 'active',
        joined_at: isoTime(now),
      };
    });
  }

  async function getMember(ctx: Ctx, orgId: string, userId: string): Promise<Member> {
    const [membership, user] = await Promise.all([
      store.selectMembership(ctx, orgId, userId),
      store.selectUserById(ctx, userId),
    ]);
    if (!membership || !user) throw new GatehouseError(tenancyErrors.userNotFound, { field: 'user_id' });
    return {
      ...toUser(user),
      role: membership.role as Role,
      role_source: membership.role_source,
      membership_status: membership.status,
      joined_at: isoTime(membership.created_at),
    };
  }

  async function listMembers(
    ctx: Ctx,
    orgId: string,
    query: { cursor?: string; limit: number; role?: Role; status?: UserStatus },
  ): Promise<Page<Member>> {
    const after = listCursorAfter(query.cursor);
    const rows = await store.selectMembers(ctx, {
      orgId,
      after,
      role: query.role,
      status: query.status,
      limit: query.limit + 1,
    });
    const members = rows.map((r) => ({
      id: r.id,
      email: r.email,
      name: r.name,
      status: r.status as UserStatus,
      created_at: isoTime(r.user_created_at),
      role: r.role as Role,
      role_source: r.role_source,
      membership_status: r.membership_status,
      joined_at: isoTime(r.created_at),
    }));
    return toPage(members, query.limit);
  }

  async function ensureAdminRemains(ctx: Ctx, orgId: string, member: Member): Promise<void> {
    if (
      member.role === 'admin' &&
      member.status === 'active' &&
      (await store.countActiveAdmins(ctx, orgId)) <= 1
    ) {
      throw new GatehouseError(tenancyErrors.lastAdmin);
    }
  }

  function refuseSelf(ctx: Ctx, userId: string): void {
    if (ctx.principal?.kind === 'user' && ctx.principal.id === userId)
      throw new GatehouseError(tenancyErrors.cannotChangeSelf);
  }

  async function changeRole(ctx: Ctx, orgId: string, userId: string, role: Role): Promise<Member> {
    refuseSelf(ctx, userId);
    return withTx(ctx, async (tx) => {
      const member = await getMember(tx, orgId, userId);
      if (member.role === role && member.role_source === 'manual') return member;
      if (role !== 'admin') await ensureAdminRemains(tx, orgId, member);
      await store.updateMembershipRole(tx, orgId, userId, role, 'manual', tx.clock.now());
      await audit.append(tx, {
        orgId,
        action: 'member.role_changed',
        target: { kind: 'user', id: userId },
        data: { from: member.role, to: role, role_source: 'manual' },
      });
      if (member.role !== role) {
        for (const listener of listeners)
          await listener.onRoleChanged(tx, { userId, orgId, from: member.role, to: role });
      }
      return { ...member, role, role_source: 'manual' };
    });
  }

  async function removeMember(ctx: Ctx, orgId: string, userId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const member = await getMember(tx, orgId, userId);
      await ensureAdminRemains(tx, orgId, member);
      await store.deleteMembership(tx, orgId, userId);
      await audit.append(tx, {
        orgId,
        action: 'member.removed',
        target: { kind: 'user', id: userId },
        data: { role: member.role },
      });
      for (const listener of listeners)
        await listener.onUserDeactivated(tx, { userId, orgId, reason: 'removed_from_org' });
    });
  }

  /**
   * Suspension is a property of the user, not the membership, so an org admin may only
   * suspend someone whose every membership is in this org; otherwise they remove them.
   */
  async function setMemberStatus(
    ctx: Ctx,
    orgId: string,
    userId: string,
    status: 'active' | 'suspended',
  ): Promise<Member> {
    refuseSelf(ctx, userId);
    return withTx(ctx, async (tx) => {
      const member = await getMember(tx, orgId, userId);
      if (member.status === status) return member;
      if (member.status === 'deprovisioned') throw new GatehouseError(tenancyErrors.userDeprovisioned);
      if ((await store.countMembershipsOfUser(tx, userId)) > 1)
        throw new GatehouseError(tenancyErrors.memberOfOtherOrgs);
      if (status === 'suspended') await ensureAdminRemains(tx, orgId, member);
      await store.updateUserRow(tx, userId, { status, updated_at: tx.clock.now() });
      await audit.append(tx, {
        orgId,
        action: status === 'suspended' ? 'user.suspended' : 'user.reactivated',
        target: { kind: 'user', id: userId },
      });
      if (status === 'suspended') {
        for (const listener of listeners)
          await listener.onUserDeactivated(tx, { userId, orgId, reason: 'suspended' });
      }
      return { ...member, status };
    });
  }

  async function updateMember(
    ctx: Ctx,
    orgId: string,
    userId: string,
    patch: { role?: Role; status?: 'active' | 'suspended' },
  ): Promise<Member> {
    return withTx(ctx, async (tx) => {
      let member = await getMember(tx, orgId, userId);
      if (patch.role !== undefined) member = await changeRole(tx, orgId, userId, patch.role);
      if (patch.status !== undefined) member = await setMemberStatus(tx, orgId, userId, patch.status);
      return member;
    });
  }

  async function getUser(ctx: Ctx, userId: string): Promise<User | undefined> {
    const row = await store.selectUserById(ctx, userId);
    return row ? toUser(row) : undefined;
  }

  /**
   * For password sign-in (SPEC §3): the user's orgs that require SSO and do not name them
   * their break-glass admin (refused), and those that do (allowed, and audited as such).
   */
  async function ssoRequirementsFor(ctx: Ctx, userId: string) {
    const orgs = await store.selectSsoRequiredOrgsOfUser(ctx, userId);
    return {
      refusingOrgIds: orgs.filter((o) => o.break_glass_user_id !== userId).map((o) => o.id),
      breakGlassOrgIds: orgs.filter((o) => o.break_glass_user_id === userId).map((o) => o.id),
    };
  }

  /** For sign-in only: the row with its password hash. Never returned over the API. */
  async function findUserForSignIn(ctx: Ctx, email: string) {
    return store.selectUserByEmail(ctx, normalizeEmail(email));
  }

  async function updateProfile(ctx: Ctx, userId: string, patch: { name?: string }): Promise<User> {
    return withTx(ctx, async (tx) => {
      if (patch.name !== undefined)
        await store.updateUserRow(tx, userId, { name: patch.name.trim(), updated_at: tx.clock.now() });
      await audit.append(tx, {
        orgId: null,
        action: 'user.profile_updated',
        target: { kind: 'user', id: userId },
        data: { fields: Object.keys(patch) },
      });
      const user = await getUser(tx, userId);
      if (!user) throw new GatehouseError(tenancyErrors.userNotFound);
      return user;
    });
  }

  const countUsers = (ctx: Ctx) => store.countUsers(ctx);

  return {
    createUser,
    addMember,
    getMember,
    listMembers,
    changeRole,
    removeMember,
    setMemberStatus,
    updateMember,
    getUser,
    findUserForSignIn,
    ssoRequirementsFor,
    updateProfile,
    countUsers,
  };
}
