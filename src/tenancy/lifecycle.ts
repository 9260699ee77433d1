// Tenancy tells the capabilities that hold credentials (sessions, API keys, OAuth grants)
// when a user stops being trusted, without importing them: they implement this interface and
// services.ts lists them. Calls run inside the caller's transaction, so a suspension and the
// revocations it causes commit together.
import type { Role } from '../authz/index.ts';
import type { Ctx } from '../db/index.ts';

/**
 * `suspended` and `deprovisioned` hold everywhere; `removed_from_org` and
 * `deprovisioned_in_org` (an IdP deactivated the member over SCIM) in `orgId`, though the
 * user's sessions and OAuth grants, which belong to no one org, end too.
 */
export type DeactivationReason = 'suspended' | 'deprovisioned' | 'removed_from_org' | 'deprovisioned_in_org';

export interface UserLifecycleListener {
  /**
   * The user must lose access: everywhere when suspended or deprovisioned, in `orgId` when
   * removed from it. `orgId` is also the org whose audit log records the revocations.
   */
  onUserDeactivated(
    ctx: Ctx,
    event: { userId: string; orgId: string; reason: DeactivationReason },
  ): Promise<void>;
  onRoleChanged(ctx: Ctx, event: { userId: string; orgId: string; from: Role; to: Role }): Promise<void>;
}

export type ServiceAccountChange = 'role_changed' | 'disabled' | 'deleted';

/**
 * The same for service accounts: a changed role, or an account disabled or deleted, must
 * reach whoever caches or holds its credentials (API keys) in the same transaction.
 */
export interface ServiceAccountLifecycleListener {
  onServiceAccountChanged(
    ctx: Ctx,
    event: { serviceAccountId: string; orgId: string; change: ServiceAccountChange },
  ): Promise<void>;
}
