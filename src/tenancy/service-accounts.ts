// Service accounts: non-human principals in one org, with a role (SPEC §1). They sign in
// only with API keys; access.ts reads the account live on every request, so disabling or
// deleting one stops its keys on the next request.
import type { AuditService } from '../audit/index.ts';
import { isRole, type Role } from '../authz/index.ts';
import { isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { type ListQuery, listCursorAfter, type Page, toPage } from '../core/pagination.ts';
import { type Ctx, withTx } from '../db/index.ts';
import { tenancyErrors } from './errors.ts';
import type { ServiceAccountChange, ServiceAccountLifecycleListener } from './lifecycle.ts';
import * as resources from './resource-store.ts';
import * as store from './store.ts';
import { normalizeName } from './validation.ts';

export interface ServiceAccount {
  id: string;
  name: string;
  role: Role;
  disabled: boolean;
  disabled_at: string | null;
  created_at: string;
}

export interface ServiceAccountPatch {
  name?: string;
  role?: Role;
  disabled?: boolean;
}

function toServiceAccount(row: resources.ServiceAccountRow): ServiceAccount {
  return {
    id: row.id,
    name: row.name,
    // A role outside the three never comes from our writes; show it as the least one, as access.ts refuses it.
    role: isRole(row.role) ? row.role : 'viewer',
    disabled: row.disabled_at !== null,
    disabled_at: row.disabled_at === null ? null : isoTime(row.disabled_at),
    created_at: isoTime(row.created_at),
  };
}

const notFound = () =>
  new GatehouseError(tenancyErrors.serviceAccountNotFound, { field: 'service_account_id' });

export function createServiceAccountFunctions(
  audit: AuditService,
  listeners: readonly ServiceAccountLifecycleListener[],
) {
  async function tell(ctx: Ctx, orgId: string, serviceAccountId: string, change: ServiceAccountChange) {
    for (const listener of listeners)
      await listener.onServiceAccountChanged(ctx, { serviceAccountId, orgId, change });
  }

  async function listServiceAccounts(
    ctx: Ctx,
    orgId: string,
    query: ListQuery,
  ): Promise<Page<ServiceAccount>> {
    const after = listCursorAfter(query.cursor);
    const rows = await resources.selectServiceAccounts(ctx, { orgId, after, limit: query.limit + 1 });
    return toPage(rows.map(toServiceAccount), query.limit);
  }

  async function getServiceAccount(
    ctx: Ctx,
    orgId: string,
    serviceAccountId: string,
  ): Promise<ServiceAccount> {
    const row = await store.selectServiceAccountInOrg(ctx, orgId, serviceAccountId);
    if (!row) throw notFound();
    return toServiceAccount(row);
  }

  async function createServiceAccount(
    ctx: Ctx,
    orgId: string,
    input: { name: string; role: Role },
  ): Promise<ServiceAccount> {
    return withTx(ctx, async (tx) => {
      const now = tx.clock.now();
      const name = input.name.trim();
      const row: resources.ServiceAccountRow = {
        id: newId('sva', now),
        org_id: orgId,
        name,
        name_normalized: normalizeName(name),
        role: input.role,
        created_at: now,
        disabled_at: null,
      };
      await store.insertUnique(
        () => resources.insertServiceAccount(tx, row),
        tenancyErrors.nameTaken,
        'name',
      );
      await audit.append(tx, {
        orgId,
        action: 'service_account.created',
        target: { kind: 'service_account', id: row.id },
        data: { name, role: input.role },
      });
      return toServiceAccount(row);
    });
  }

  /** Sets `disabled_at`; already disabled (or enabled) accounts are returned unchanged, unaudited. */
  async function setDisabled(
    ctx: Ctx,
    orgId: string,
    serviceAccountId: string,
    disabled: boolean,
  ): Promise<ServiceAccount> {
    return withTx(ctx, async (tx) => {
      const account = await getServiceAccount(tx, orgId, serviceAccountId);
      if (account.disabled === disabled) return account;
      const disabledAt = disabled ? tx.clock.now() : null;
      await resources.updateServiceAccountRow(tx, orgId, serviceAccountId, { disabled_at: disabledAt });
      await audit.append(tx, {
        orgId,
        action: disabled ? 'service_account.disabled' : 'service_account.enabled',
        target: { kind: 'service_account', id: serviceAccountId },
        data: { name: account.name },
      });
      if (disabled) await tell(tx, orgId, serviceAccountId, 'disabled');
      return getServiceAccount(tx, orgId, serviceAccountId);
    });
  }

  const disableServiceAccount = (ctx: Ctx, orgId: string, serviceAccountId: string) =>
    setDisabled(ctx, orgId, serviceAccountId, true);
  const enableServiceAccount = (ctx: Ctx, orgId: string, serviceAccountId: string) =>
    setDisabled(ctx, orgId, serviceAccountId, false);

  /** Renames, changes the role and disables or enables, all in one transaction. */
  async function updateServiceAccount(
    ctx: Ctx,
    orgId: string,
    serviceAccountId: string,
    patch: ServiceAccountPatch,
  ): Promise<ServiceAccount> {
    return withTx(ctx, async (tx) => {
      const before = await getServiceAccount(tx, orgId, serviceAccountId);
      const set: Parameters<typeof resources.updateServiceAccountRow>[3] = {};
      const data: Record<string, unknown> = {};
      if (patch.name !== undefined && patch.name.trim() !== before.name) {
        const name = patch.name.trim();
        set.name = name;
        set.name_normalized = normalizeName(name);
        data.name = { from: before.name, to: name };
      }
      if (patch.role !== undefined && patch.role !== before.role) {
        set.role = patch.role;
        data.role = { from: before.role, to: patch.role };
      }
      if (Object.keys(set).length > 0) {
        await store.insertUnique(
          () => resources.updateServiceAccountRow(tx, orgId, serviceAccountId, set),
          tenancyErrors.nameTaken,
          'name',
        );
        await audit.append(tx, {
          orgId,
          action: 'service_account.updated',
          target: { kind: 'service_account', id: serviceAccountId },
          data,
        });
        if (set.role !== undefined) await tell(tx, orgId, serviceAccountId, 'role_changed');
      }
      if (patch.disabled !== undefined) return setDisabled(tx, orgId, serviceAccountId, patch.disabled);
      return getServiceAccount(tx, orgId, serviceAccountId);
    });
  }

  /** Deleting the account ends its API keys too: the listeners revoke them in the same transaction. */
  async function deleteServiceAccount(ctx: Ctx, orgId: string, serviceAccountId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const account = await getServiceAccount(tx, orgId, serviceAccountId);
      if (!(await resources.deleteServiceAccountRow(tx, orgId, serviceAccountId))) throw notFound();
      await audit.append(tx, {
        orgId,
        action: 'service_account.deleted',
        target: { kind: 'service_account', id: serviceAccountId },
        data: { name: account.name, role: account.role },
      });
      await tell(tx, orgId, serviceAccountId, 'deleted');
    });
  }

  return {
    listServiceAccounts,
    getServiceAccount,
    createServiceAccount,
    updateServiceAccount,
    disableServiceAccount,
    enableServiceAccount,
    deleteServiceAccount,
  };
}
