// What an IdP's directory does to an org over SCIM (SPEC §5), as tenancy sees it: people
// join with the role the org's rules give their groups (role_source `scim`), are suspended
// in this org only and reactivated, and groups are made, renamed and filled by the thousand.
// A membership change re-runs the role rules for the members it touched whose role is the
// directory's to decide; a role an admin set by hand stays pinned. Every function runs in
// the caller's transaction and audits what it changed there.
import type { AuditService } from '../audit/index.ts';
import { isRole, type Role } from '../authz/index.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Ctx } from '../db/index.ts';
import * as directory from './directory-store.ts';
import { tenancyErrors } from './errors.ts';
import type { UserLifecycleListener } from './lifecycle.ts';
import * as resources from './resource-store.ts';
import * as store from './store.ts';
import { checkEmail, normalizeEmail, normalizeName } from './validation.ts';

export const DIRECTORY_ROLE_SOURCE = 'scim';

export interface DirectoryRoleDecision {
  readonly role: Role;
  /** Why, kept for the role explanation: the rule and group, or the default. */
  readonly reason: Readonly<Record<string, unknown>>;
}

/** The org's role rules, loaded once, as a function of a member's group names. */
export type DirectoryRoleRules = (groups: readonly string[]) => DirectoryRoleDecision;

export interface DirectoryDeps {
  /** Loads the org's rules that hold for every connection (SCIM has none), over `defaultRole`. */
  readonly loadRoleRules: (ctx: Ctx, orgId: string, defaultRole: Role) => Promise<DirectoryRoleRules>;
  /** Whether the org has verified the domain of `email` (and so may claim its existing account). */
  readonly ownsEmailDomain: (ctx: Ctx, orgId: string, email: string) => Promise<boolean>;
}

/** What joinFromDirectory did, for the caller's audit event. */
export interface DirectoryJoin {
  readonly userId: string;
  readonly accountCreated: boolean;
  /** False when they were a member already (linked, role left as it was). */
  readonly joined: boolean;
  readonly role: Role;
  readonly roleSource: string;
}

/** The reason kept for a role no rule decided (the shape loadRoleRules gives it too). */
const DEFAULT_REASON = { source: 'default', via: 'scim' } as const;

export interface MemberChangeSet {
  /** The members to have, when the whole list is replaced (before `add` and `remove`). */
  readonly replaceWith?: ReadonlySet<string>;
  readonly add: ReadonlySet<string>;
  readonly remove: ReadonlySet<string>;
}

export function createDirectoryFunctions(
  audit: AuditService,
  listeners: readonly UserLifecycleListener[],
  deps: DirectoryDeps,
) {
  async function orgDefaultRole(ctx: Ctx, orgId: string): Promise<Role> {
    const org = await store.selectOrgByRef(ctx, orgId);
    if (!org) throw new GatehouseError(tenancyErrors.orgNotFound);
    return isRole(org.default_role) ? org.default_role : 'viewer';
  }

  /**
   * The account for a person the directory provisions: a member of the org already, or an
   * existing account in no org or whose email domain the org verified, or a new one. A
   * member of another org is refused, so no org's IdP can pull in (and later lock out) a
   * stranger.
   *
   * Not audited here: the caller records the provisioning as one event, with what this
   * answers, as the last write of its transaction — the org's audit chain row stays locked
   * from the append to the commit, so appending last keeps concurrent provisioning flowing.
   */
  async function joinFromDirectory(
    ctx: Ctx,
    orgId: string,
    input: { email: string; name: string },
  ): Promise<DirectoryJoin> {
    const email = checkEmail(input.email, 'emails');
    const now = ctx.clock.now();
    const userId = newId('usr', now);
    // The common case, a new person, in one statement; a taken email falls to the checks below.
    const accountCreated = await directory.insertUserIfNew(ctx, {
      id: userId,
      email,
      email_normalized: normalizeEmail(email),
      name: input.name.trim(),
      status: 'active',
      password_hash: null,
      created_at: now,
      updated_at: now,
    });
    let memberId = userId;
    if (!accountCreated) {
      const existing = await store.selectUserByEmail(ctx, normalizeEmail(email));
      // Deleted between the insert and this read: a conflict the IdP may retry.
      if (!existing) throw new GatehouseError(tenancyErrors.userExists, { field: 'emails' });
      if (existing.status === 'deprovisioned')
        throw new GatehouseError(tenancyErrors.userDeprovisioned, { field: 'emails' });
      const membership = await store.selectMembership(ctx, orgId, existing.id);
      if (membership)
        return {
          userId: existing.id,
          accountCreated: false,
          joined: false,
          role: membership.role as Role,
          roleSource: membership.role_source,
        };
      // An account in no organization (one an IdP deleted, say, before a rehire) is no one
      // else's to lose; otherwise the org must have verified the email's domain.
      const elsewhere = (await store.countMembershipsOfUser(ctx, existing.id)) > 0;
      if (elsewhere && !(await deps.ownsEmailDomain(ctx, orgId, email)))
        throw new GatehouseError(tenancyErrors.userExists, {
          field: 'emails',
          message:
            'A Gatehouse account with this email exists outside this organization. Add them as a member, or verify the email domain, before provisioning them.',
        });
      memberId = existing.id;
    }
    // A newcomer is in no group yet, so no group rule can match: the org's default role.
    const role = await directory.insertMembershipWithDefaultRole(ctx, {
      org_id: orgId,
      user_id: memberId,
      role_source: DIRECTORY_ROLE_SOURCE,
      role_reason_json: JSON.stringify(DEFAULT_REASON),
      status: 'active',
      created_at: now,
      updated_at: now,
    });
    return {
      userId: memberId,
      accountCreated,
      joined: true,
      role: isRole(role) ? role : 'viewer',
      roleSource: DIRECTORY_ROLE_SOURCE,
    };
  }

  /**
   * Suspends or reactivates the membership. Suspending ends the user's sessions and revokes
   * their keys and grants in this transaction (the listeners); reactivating gives back access
   * to the org, not what was revoked.
   */
  async function setMembershipActive(
    ctx: Ctx,
    orgId: string,
    userId: string,
    active: boolean,
  ): Promise<boolean> {
    const membership = await store.selectMembership(ctx, orgId, userId);
    if (!membership) throw new GatehouseError(tenancyErrors.userNotFound, { field: 'id' });
    const status = active ? 'active' : 'suspended';
    if (membership.status === status) return false;
    await directory.updateMembershipStatus(ctx, orgId, userId, status, ctx.clock.now());
    await audit.append(ctx, {
      orgId,
      action: active ? 'member.reactivated' : 'member.suspended',
      target: { kind: 'user', id: userId },
      data: { source: DIRECTORY_ROLE_SOURCE },
    });
    if (!active)
      for (const listener of listeners)
        await listener.onUserDeactivated(ctx, { userId, orgId, reason: 'deprovisioned_in_org' });
    return true;
  }

  /** Re-runs the role rules for members whose role the directory decides; answers how many changed. */
  async function reapplyDirectoryRoles(ctx: Ctx, orgId: string, userIds: readonly string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    const memberships = await directory.selectMembershipsBySource(ctx, orgId, userIds, DIRECTORY_ROLE_SOURCE);
    if (memberships.length === 0) return 0;
    const rules = await deps.loadRoleRules(ctx, orgId, await orgDefaultRole(ctx, orgId));
    const groups = await directory.selectGroupNamesOfUsers(
      ctx,
      orgId,
      memberships.map((m) => m.user_id),
    );
    const now = ctx.clock.now();
    let changed = 0;
    for (const membership of memberships) {
      const decision = rules(groups.get(membership.user_id) ?? []);
      const reasonJson = JSON.stringify(decision.reason);
      if (membership.role === decision.role && membership.role_reason_json === reasonJson) continue;
      await store.updateMembershipRole(
        ctx,
        orgId,
        membership.user_id,
        decision.role,
        DIRECTORY_ROLE_SOURCE,
        now,
        reasonJson,
      );
      if (membership.role === decision.role) continue;
      changed++;
      await audit.append(ctx, {
        orgId,
        action: 'member.role_changed',
        target: { kind: 'user', id: membership.user_id },
        data: {
          from: membership.role,
          to: decision.role,
          role_source: DIRECTORY_ROLE_SOURCE,
          reason: decision.reason,
        },
      });
      for (const listener of listeners)
        await listener.onRoleChanged(ctx, {
          userId: membership.user_id,
          orgId,
          from: membership.role as Role,
          to: decision.role,
        });
    }
    return changed;
  }

  async function createDirectoryGroup(
    ctx: Ctx,
    orgId: string,
    input: { name: string; externalId: string | null },
  ): Promise<resources.GroupRow> {
    const now = ctx.clock.now();
    const name = input.name.trim();
    const row: resources.GroupRow = {
      id: newId('grp', now),
      org_id: orgId,
      name,
      name_normalized: normalizeName(name),
      source: DIRECTORY_ROLE_SOURCE,
      connection_id: null,
      external_id: input.externalId,
      version: 1,
      updated_at: now,
      created_at: now,
    };
    await store.insertUnique(() => resources.insertGroup(ctx, row), tenancyErrors.nameTaken, 'displayName');
    await audit.append(ctx, {
      orgId,
      action: 'group.created',
      target: { kind: 'group', id: row.id },
      data: { name, source: row.source },
    });
    return row;
  }

  async function directoryGroup(ctx: Ctx, orgId: string, groupId: string): Promise<resources.GroupRow> {
    const group = await resources.selectGroup(ctx, orgId, groupId);
    if (!group) throw new GatehouseError(tenancyErrors.groupNotFound, { field: 'id' });
    return group;
  }

  /** Renames the group or changes its externalId; a rename re-runs the rules for its members. */
  async function updateDirectoryGroup(
    ctx: Ctx,
    orgId: string,
    groupId: string,
    input: { name: string; externalId: string | null },
  ): Promise<void> {
    const group = await directoryGroup(ctx, orgId, groupId);
    const name = input.name.trim();
    await store.insertUnique(
      () =>
        directory.updateGroupRow(ctx, orgId, groupId, {
          name,
          name_normalized: normalizeName(name),
          external_id: input.externalId,
          updated_at: ctx.clock.now(),
        }),
      tenancyErrors.nameTaken,
      'displayName',
    );
    if (name === group.name && input.externalId === group.external_id) return;
    await audit.append(ctx, {
      orgId,
      action: 'group.updated',
      target: { kind: 'group', id: groupId },
      data: { name, previous_name: group.name, external_id: input.externalId },
    });
    if (normalizeName(name) !== group.name_normalized)
      await reapplyDirectoryRoles(ctx, orgId, await directory.selectGroupMemberIds(ctx, groupId));
  }

  /**
   * Applies a member change in SQL: the ids must be members of the org; returns who was
   * actually added and removed, audits it as one event, and re-runs the rules for them.
   */
  async function changeGroupMembers(
    ctx: Ctx,
    orgId: string,
    groupId: string,
    changes: MemberChangeSet,
  ): Promise<{ added: string[]; removed: string[] }> {
    const group = await directoryGroup(ctx, orgId, groupId);
    const now = ctx.clock.now();
    let toAdd = [...changes.add];
    let toRemove = [...changes.remove];
    if (changes.replaceWith !== undefined) {
      const wanted = new Set([...changes.replaceWith, ...changes.add]);
      for (const id of changes.remove) wanted.delete(id);
      const current = await directory.selectGroupMemberIds(ctx, groupId);
      toRemove = current.filter((id) => !wanted.has(id));
      const have = new Set(current);
      toAdd = [...wanted].filter((id) => !have.has(id));
    }
    if (toAdd.length > 0) {
      const members = await directory.selectMembersAmong(ctx, orgId, toAdd);
      const strangers = toAdd.filter((id) => !members.has(id));
      if (strangers.length > 0)
        throw new GatehouseError(tenancyErrors.notMembers, {
          field: 'members',
          message: `Not users of this organization: ${strangers.slice(0, 5).join(', ')}${strangers.length > 5 ? ` and ${strangers.length - 5} more` : ''}.`,
        });
    }
    const removed = await directory.deleteGroupMembers(ctx, groupId, toRemove);
    const added = await directory.insertGroupMembers(ctx, groupId, toAdd, now);
    if (added.length === 0 && removed.length === 0) return { added, removed };
    await directory.updateGroupRow(ctx, orgId, groupId, { updated_at: now });
    await audit.append(ctx, {
      orgId,
      action: 'group.members_changed',
      target: { kind: 'group', id: groupId },
      // Counts always; the ids of small changes, so a 5,000-member sync is not one huge event.
      data: {
        group_name: group.name,
        added: added.length,
        removed: removed.length,
        ...(added.length + removed.length <= 100 ? { added_ids: added, removed_ids: removed } : {}),
      },
    });
    await reapplyDirectoryRoles(ctx, orgId, [...added, ...removed]);
    return { added, removed };
  }

  async function deleteDirectoryGroup(ctx: Ctx, orgId: string, groupId: string): Promise<void> {
    const group = await directoryGroup(ctx, orgId, groupId);
    const members = await directory.selectGroupMemberIds(ctx, groupId);
    if (!(await resources.deleteGroupRow(ctx, orgId, groupId)))
      throw new GatehouseError(tenancyErrors.groupNotFound, { field: 'id' });
    await audit.append(ctx, {
      orgId,
      action: 'group.deleted',
      target: { kind: 'group', id: groupId },
      data: { name: group.name, source: group.source, members: members.length },
    });
    await reapplyDirectoryRoles(ctx, orgId, members);
  }

  /**
   * Takes the person out of the org for good (SCIM DELETE): membership and its groups go, and
   * the listeners revoke what the org's membership held. No last-admin check: the IdP is the
   * authority on who still works here, and the break-glass admin stays for lock-outs.
   */
  async function removeFromDirectory(ctx: Ctx, orgId: string, userId: string): Promise<void> {
    const membership = await store.selectMembership(ctx, orgId, userId);
    if (!membership) return;
    await store.deleteMembership(ctx, orgId, userId);
    await audit.append(ctx, {
      orgId,
      action: 'member.removed',
      target: { kind: 'user', id: userId },
      data: { role: membership.role, source: DIRECTORY_ROLE_SOURCE },
    });
    for (const listener of listeners)
      await listener.onUserDeactivated(ctx, { userId, orgId, reason: 'removed_from_org' });
  }

  return {
    joinFromDirectory,
    removeFromDirectory,
    setMembershipActive,
    reapplyDirectoryRoles,
    createDirectoryGroup,
    updateDirectoryGroup,
    changeGroupMembers,
    deleteDirectoryGroup,
  };
}
