// What an SSO sign-in does to a membership (SPEC §3): the user joins the org with the role
// the org's rules decided, or has that role re-applied on every sign-in unless an admin
// pinned one by hand (role_source `manual`); the groups the IdP sent replace the ones it sent
// last time through the same connection. Runs inside the sign-in's transaction; a role
// change tells the lifecycle listeners, so the user's old sessions and keys follow at once.
import type { AuditService } from '../audit/index.ts';
import type { Role } from '../authz/index.ts';
import { newId } from '../core/ids.ts';
import type { Ctx } from '../db/index.ts';
import type { UserLifecycleListener } from './lifecycle.ts';
import * as resources from './resource-store.ts';
import * as store from './store.ts';
import { normalizeName } from './validation.ts';

export const SSO_ROLE_SOURCE = 'sso';

export interface SsoMembershipInput {
  readonly orgId: string;
  readonly userId: string;
  readonly connectionId: string;
  /** As the IdP sent them this time. */
  readonly groups: readonly string[];
  readonly role: Role;
  /** Why: the rule and group, or the default. Kept for the role explanation and audited. */
  readonly reason: Readonly<Record<string, unknown>>;
}

export interface SsoMembershipResult {
  readonly role: Role;
  readonly joined: boolean;
  /** The role was pinned by an admin and left alone. */
  readonly pinned: boolean;
  readonly roleChanged: boolean;
  readonly groupsAdded: readonly string[];
  readonly groupsRemoved: readonly string[];
}

export function createSsoMembershipFunctions(
  audit: AuditService,
  listeners: readonly UserLifecycleListener[],
) {
  async function syncGroups(tx: Ctx, input: SsoMembershipInput) {
    const now = tx.clock.now();
    const existing = await resources.selectAllGroupsOfOrg(tx, input.orgId);
    const wanted = new Map(input.groups.map((g) => [normalizeName(g), g]));
    const added: string[] = [];
    const removed: string[] = [];
    for (const [normalized, name] of wanted) {
      let group = existing.find((g) => g.name_normalized === normalized);
      // A manual or SCIM group of the same name is not the IdP's to fill.
      if (group && (group.source !== 'sso' || group.connection_id !== input.connectionId)) continue;
      if (!group) {
        const row: resources.GroupRow = {
          id: newId('grp', now),
          org_id: input.orgId,
          name,
          name_normalized: normalized,
          source: 'sso',
          connection_id: input.connectionId,
          external_id: null,
          version: 1,
          updated_at: now,
          created_at: now,
        };
        await resources.insertGroup(tx, row);
        group = row;
      }
      if (await resources.insertGroupMember(tx, group.id, input.userId, now)) added.push(group.name);
    }
    for (const group of existing) {
      if (group.source !== 'sso' || group.connection_id !== input.connectionId) continue;
      if (wanted.has(group.name_normalized)) continue;
      if (await resources.deleteGroupMember(tx, group.id, input.userId)) removed.push(group.name);
    }
    return { added, removed };
  }

  /** Applies one SSO sign-in to the user's membership in the org; audits what changed. */
  async function applySsoMembership(tx: Ctx, input: SsoMembershipInput): Promise<SsoMembershipResult> {
    const now = tx.clock.now();
    const { orgId, userId, role } = input;
    const reasonJson = JSON.stringify(input.reason);
    const membership = await store.selectMembership(tx, orgId, userId);
    const target = { kind: 'user', id: userId };
    let joined = false;
    let pinned = false;
    let roleChanged = false;
    let effective = role;
    if (!membership) {
      await store.insertMembership(tx, {
        org_id: orgId,
        user_id: userId,
        role,
        role_source: SSO_ROLE_SOURCE,
        role_reason_json: reasonJson,
        status: 'active',
        created_at: now,
        updated_at: now,
      });
      joined = true;
      await audit.append(tx, {
        orgId,
        action: 'member.added',
        target,
        data: { role, role_source: SSO_ROLE_SOURCE, reason: input.reason },
      });
    } else if (membership.role_source === 'manual') {
      pinned = true;
      effective = membership.role as Role;
    } else if (membership.role !== role || membership.role_reason_json !== reasonJson) {
      await store.updateMembershipRole(tx, orgId, userId, role, SSO_ROLE_SOURCE, now, reasonJson);
      if (membership.role !== role) {
        roleChanged = true;
        await audit.append(tx, {
          orgId,
          action: 'member.role_changed',
          target,
          data: { from: membership.role, to: role, role_source: SSO_ROLE_SOURCE, reason: input.reason },
        });
        for (const listener of listeners)
          await listener.onRoleChanged(tx, { userId, orgId, from: membership.role as Role, to: role });
      }
    }
    const groups = await syncGroups(tx, input);
    if (groups.added.length > 0 || groups.removed.length > 0)
      await audit.append(tx, {
        orgId,
        action: 'member.groups_synced',
        target,
        data: { connection_id: input.connectionId, added: groups.added, removed: groups.removed },
      });
    return {
      role: effective,
      joined,
      pinned,
      roleChanged,
      groupsAdded: groups.added,
      groupsRemoved: groups.removed,
    };
  }

  /** Why a member has their role: the stored decision of their last SSO sign-in, or that it was set by hand. */
  async function explainRole(ctx: Ctx, orgId: string, userId: string) {
    const membership = await store.selectMembership(ctx, orgId, userId);
    if (!membership) return undefined;
    const reason =
      membership.role_reason_json === null
        ? null
        : (JSON.parse(membership.role_reason_json) as Record<string, unknown>);
    return { role: membership.role as Role, roleSource: membership.role_source, reason };
  }

  return { applySsoMembership, explainRole };
}
