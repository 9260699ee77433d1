// Organizations: the tenant (SPEC §1). Creating one makes its creator the first admin.
import type { AuditService } from '../audit/index.ts';
import { isRole, type Role } from '../authz/index.ts';
import { DAY, HOUR, isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { type Ctx, withTx } from '../db/index.ts';
import { tenancyErrors } from './errors.ts';
import * as store from './store.ts';
import { checkSlug } from './validation.ts';

export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 12 * HOUR;
export const DEFAULT_SESSION_ABSOLUTE_LIFETIME_MS = 7 * DAY;

export interface Org {
  id: string;
  slug: string;
  name: string;
  default_role: Role;
  session_idle_timeout_seconds: number;
  session_absolute_lifetime_seconds: number;
  /** Password sign-in refused for members, the break-glass admin excepted (SPEC §3). */
  sso_required: boolean;
  break_glass_user_id: string | null;
  created_at: string;
}

export interface OrgSettingsPatch {
  name?: string;
  default_role?: Role;
  session_idle_timeout_seconds?: number;
  session_absolute_lifetime_seconds?: number;
  sso_required?: boolean;
  break_glass_user_id?: string | null;
}

export function toOrg(row: store.OrgRow): Org {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    default_role: isRole(row.default_role) ? row.default_role : 'user',
    session_idle_timeout_seconds: Math.floor(Number(row.session_idle_timeout_ms) / 1000),
    session_absolute_lifetime_seconds: Math.floor(Number(row.session_absolute_lifetime_ms) / 1000),
    sso_required: Number(row.sso_required) === 1,
    break_glass_user_id: row.break_glass_user_id,
    created_at: isoTime(row.created_at),
  };
}

/** Drops cached access answers that name this org (its name is part of them). */
type InvalidateAccess = (ctx: Ctx, orgId: string) => Promise<void>;

export function createOrgFunctions(audit: AuditService, invalidateAccess: InvalidateAccess) {
  async function createOrg(
    ctx: Ctx,
    input: { slug: string; name: string },
    adminUserId: string,
  ): Promise<Org> {
    checkSlug(input.slug);
    return withTx(ctx, async (tx) => {
      const now = tx.clock.now();
      const row: store.OrgRow = {
        id: newId('org', now),
        slug: input.slug,
        name: input.name.trim(),
        default_role: 'user',
        session_idle_timeout_ms: DEFAULT_SESSION_IDLE_TIMEOUT_MS,
        session_absolute_lifetime_ms: DEFAULT_SESSION_ABSOLUTE_LIFETIME_MS,
        sso_required: 0,
        break_glass_user_id: null,
        created_at: now,
        updated_at: now,
      };
      await store.insertUnique(() => store.insertOrg(tx, row), tenancyErrors.orgSlugTaken, 'slug');
      await store.insertMembership(tx, {
        org_id: row.id,
        user_id: adminUserId,
        role: 'admin',
        role_source: 'manual',
        role_reason_json: null,
        status: 'active',
        created_at: now,
        updated_at: now,
      });
      await audit.append(tx, {
        orgId: row.id,
        action: 'org.created',
        target: { kind: 'org', id: row.id },
        data: { slug: row.slug },
      });
      await audit.append(tx, {
        orgId: row.id,
        action: 'member.added',
        target: { kind: 'user', id: adminUserId },
        data: { role: 'admin', role_source: 'manual' },
      });
      return toOrg(row);
    });
  }

  async function getOrg(ctx: Ctx, orgId: string): Promise<Org> {
    const row = await store.selectOrgByRef(ctx, orgId);
    if (!row) throw new GatehouseError(tenancyErrors.orgNotFound);
    return toOrg(row);
  }

  async function findOrgBySlug(ctx: Ctx, slug: string): Promise<Org | undefined> {
    const row = await store.selectOrgByRef(ctx, slug);
    return row ? toOrg(row) : undefined;
  }

  async function updateOrgSettings(ctx: Ctx, orgId: string, patch: OrgSettingsPatch): Promise<Org> {
    return withTx(ctx, async (tx) => {
      const now = tx.clock.now();
      const set: Partial<store.OrgRow> = { updated_at: now };
      if (patch.name !== undefined) set.name = patch.name.trim();
      if (patch.default_role !== undefined) set.default_role = patch.default_role;
      if (patch.session_idle_timeout_seconds !== undefined)
        set.session_idle_timeout_ms = patch.session_idle_timeout_seconds * 1000;
      if (patch.session_absolute_lifetime_seconds !== undefined) {
        set.session_absolute_lifetime_ms = patch.session_absolute_lifetime_seconds * 1000;
      }
      if (patch.sso_required !== undefined) set.sso_required = patch.sso_required ? 1 : 0;
      if (patch.break_glass_user_id !== undefined) {
        // The one account that may still use a password when SSO is required: an active admin.
        const id = patch.break_glass_user_id;
        const membership = id === null ? undefined : await store.selectMembership(tx, orgId, id);
        const user = id === null ? undefined : await store.selectUserById(tx, id);
        if (id !== null && (membership?.role !== 'admin' || user?.status !== 'active'))
          throw new GatehouseError(tenancyErrors.breakGlassInvalid, { field: 'break_glass_user_id' });
        set.break_glass_user_id = id;
      }
      await store.updateOrgRow(tx, orgId, set);
      await audit.append(tx, {
        orgId,
        action: 'org.settings_updated',
        target: { kind: 'org', id: orgId },
        data: { ...patch },
      });
      await invalidateAccess(tx, orgId);
      return getOrg(tx, orgId);
    });
  }

  async function listOrgsOfUser(ctx: Ctx, userId: string) {
    const rows = await store.selectOrgsOfUser(ctx, userId);
    return rows.map((r) => ({
      id: r.id,
      slug: r.slug,
      name: r.name,
      role: r.role,
      role_source: r.role_source,
    }));
  }

  /** Every org, for operator commands (audit verify over all chains). */
  const listAllOrgs = (ctx: Ctx) => store.selectAllOrgs(ctx);

  return { createOrg, getOrg, findOrgBySlug, updateOrgSettings, listOrgsOfUser, listAllOrgs };
}
