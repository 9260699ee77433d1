// Groups of an org's members (SPEC §1). Groups feed role rules; this file manages the
// `manual` ones an admin makes. SCIM and SSO-synced groups share the table with their own
// `source`. Only members of the org can be put in its groups.
import type { AuditService } from '../audit/index.ts';
import { isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { type ListQuery, listCursorAfter, type Page, toPage } from '../core/pagination.ts';
import { type Ctx, withTx } from '../db/index.ts';
import { tenancyErrors } from './errors.ts';
import * as resources from './resource-store.ts';
import * as store from './store.ts';
import { normalizeName } from './validation.ts';

type GroupSource = 'manual' | 'scim' | 'sso';

export interface Group {
  id: string;
  name: string;
  source: string;
  created_at: string;
}

export interface GroupMember {
  id: string;
  email: string;
  name: string;
  status: string;
  added_at: string;
}

function toGroup(row: resources.GroupRow): Group {
  return { id: row.id, name: row.name, source: row.source, created_at: isoTime(row.created_at) };
}

export function createGroupFunctions(audit: AuditService) {
  async function listGroups(ctx: Ctx, orgId: string, query: ListQuery): Promise<Page<Group>> {
    const after = listCursorAfter(query.cursor);
    const rows = await resources.selectGroups(ctx, { orgId, after, limit: query.limit + 1 });
    return toPage(rows.map(toGroup), query.limit);
  }

  async function getGroup(ctx: Ctx, orgId: string, groupId: string): Promise<Group> {
    const row = await resources.selectGroup(ctx, orgId, groupId);
    if (!row) throw new GatehouseError(tenancyErrors.groupNotFound, { field: 'group_id' });
    return toGroup(row);
  }

  async function createGroup(ctx: Ctx, orgId: string, input: { name: string }): Promise<Group> {
    return withTx(ctx, async (tx) => {
      const now = tx.clock.now();
      const name = input.name.trim();
      const row: resources.GroupRow = {
        id: newId('grp', now),
        org_id: orgId,
        name,
        name_normalized: normalizeName(name),
        source: 'manual' satisfies GroupSource,
        connection_id: null,
        external_id: null,
        version: 1,
        updated_at: now,
        created_at: now,
      };
      await store.insertUnique(() => resources.insertGroup(tx, row), tenancyErrors.nameTaken, 'name');
      await audit.append(tx, {
        orgId,
        action: 'group.created',
        target: { kind: 'group', id: row.id },
        data: { name, source: row.source },
      });
      return toGroup(row);
    });
  }

  async function deleteGroup(ctx: Ctx, orgId: string, groupId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const group = await getGroup(tx, orgId, groupId);
      if (!(await resources.deleteGroupRow(tx, orgId, groupId)))
        throw new GatehouseError(tenancyErrors.groupNotFound, { field: 'group_id' });
      await audit.append(tx, {
        orgId,
        action: 'group.deleted',
        target: { kind: 'group', id: groupId },
        data: { name: group.name, source: group.source },
      });
    });
  }

  async function listGroupMembers(
    ctx: Ctx,
    orgId: string,
    groupId: string,
    query: ListQuery,
  ): Promise<Page<GroupMember>> {
    const after = listCursorAfter(query.cursor);
    await getGroup(ctx, orgId, groupId);
    const rows = await resources.selectGroupMembers(ctx, groupId, { after, limit: query.limit + 1 });
    const members = rows.map((r) => ({
      id: r.id,
      email: r.email,
      name: r.name,
      status: r.status,
      added_at: isoTime(r.created_at),
    }));
    return toPage(members, query.limit);
  }

  /** Idempotent: adding someone already in the group changes nothing and records nothing. */
  async function addGroupMember(ctx: Ctx, orgId: string, groupId: string, userId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const group = await getGroup(tx, orgId, groupId);
      if (!(await store.selectMembership(tx, orgId, userId)))
        throw new GatehouseError(tenancyErrors.userNotFound, { field: 'user_id' });
      if (!(await resources.insertGroupMember(tx, groupId, userId, tx.clock.now()))) return;
      await audit.append(tx, {
        orgId,
        action: 'group.member_added',
        target: { kind: 'group', id: groupId },
        data: { user_id: userId, group_name: group.name },
      });
    });
  }

  /** Idempotent: removing someone not in the group answers the same as removing them. */
  async function removeGroupMember(ctx: Ctx, orgId: string, groupId: string, userId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const group = await getGroup(tx, orgId, groupId);
      if (!(await resources.deleteGroupMember(tx, groupId, userId))) return;
      await audit.append(tx, {
        orgId,
        action: 'group.member_removed',
        target: { kind: 'group', id: groupId },
        data: { user_id: userId, group_name: group.name },
      });
    });
  }

  return {
    listGroups,
    getGroup,
    createGroup,
    deleteGroup,
    listGroupMembers,
    addGroupMember,
    removeGroupMember,
  };
}
