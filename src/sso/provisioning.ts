// From a verified IdP identity to a signed-in member (SPEC §3): the identity is linked or
// provisioned (only for a verified email in a domain the connection's org has verified), the
// membership, groups and role (the org's rules) applied, and a session started, in one
// transaction. Also what a test sign-in reports Gatehouse would do, without doing it.
import type { AuditService } from '../audit/index.ts';
import { isRole, type Role } from '../authz/index.ts';
import { GatehouseError } from '../core/errors.ts';
import { type Ctx, withTx } from '../db/index.ts';
import type { SessionsService, StartedSession } from '../sessions/index.ts';
import type { TenancyService } from '../tenancy/index.ts';
import type { LoadedConnection } from './connections.ts';
import { ssoErrors } from './errors.ts';
import type { IdpIdentity, ReportStep } from './identity.ts';
import { emailDomain } from './mapping/domains.ts';
import { decideRole, type RoleDecision, type RoleRule } from './mapping/role-rules.ts';
import * as store from './store.ts';

export interface ProvisioningDeps {
  readonly audit: AuditService;
  readonly tenancy: TenancyService;
  readonly sessions: SessionsService;
  readonly loadRules: (ctx: Ctx, orgId: string) => Promise<RoleRule[]>;
}

export function createProvisioning(deps: ProvisioningDeps) {
  /** The user the IdP's identity stands for: the linked one, or a new or linked account (JIT). */
  async function userFor(
    tx: Ctx,
    connection: LoadedConnection,
    identity: IdpIdentity,
  ): Promise<{ userId: string; provisioned: boolean; linked: boolean }> {
    const link = await store.selectIdentity(tx, connection.id, identity.subject);
    const { email, emailVerified } = identity;
    const now = tx.clock.now();
    if (link) {
      if (email && emailVerified) await store.touchIdentity(tx, connection.id, identity.subject, email, now);
      return { userId: link.user_id, provisioned: false, linked: false };
    }
    if (!email) throw new GatehouseError(ssoErrors.emailMissing);
    if (!emailVerified) throw new GatehouseError(ssoErrors.emailUnverified, { detail: email });
    // A new identity is trusted only for a domain this connection's org has verified: an IdP
    // (or its admin) cannot take over, or squat, addresses of a domain it does not own.
    const domain = emailDomain(email);
    const claim = domain ? await store.selectDomainByName(tx, domain) : undefined;
    if (!claim || claim.verified_at === null || claim.org_id !== connection.orgId)
      throw new GatehouseError(ssoErrors.domainNotMapped, { detail: domain ?? email });
    const existing = await deps.tenancy.findUserForSignIn(tx, email);
    let userId: string;
    if (existing) userId = existing.id;
    else {
      const user = await deps.tenancy.createUser(tx, { email, name: (identity.name ?? email).slice(0, 200) });
      userId = user.id;
      await deps.audit.append(tx, {
        orgId: connection.orgId,
        action: 'user.created',
        actor: { kind: 'user', id: userId },
        target: { kind: 'user', id: userId },
        data: { source: 'sso', connection_id: connection.id },
      });
    }
    await store.insertIdentity(tx, {
      connection_id: connection.id,
      subject: identity.subject,
      user_id: userId,
      email,
      created_at: now,
      last_sign_in_at: now,
    });
    await deps.audit.append(tx, {
      orgId: connection.orgId,
      action: 'sso.identity_linked',
      actor: { kind: 'user', id: userId },
      target: { kind: 'user', id: userId },
      data: {
        connection_id: connection.id,
        subject: identity.subject,
        existing_account: existing !== undefined,
      },
    });
    return { userId, provisioned: !existing, linked: existing !== undefined };
  }

  /** The default role for this user in the org: their domain claim's, else the org's. */
  async function defaultRoleFor(
    tx: Ctx,
    connection: LoadedConnection,
    email: string | undefined,
  ): Promise<Role> {
    const domain = email ? emailDomain(email) : undefined;
    const claim = domain ? await store.selectDomainByName(tx, domain) : undefined;
    if (claim && claim.org_id === connection.orgId && isRole(claim.default_role)) return claim.default_role;
    return (await deps.tenancy.getOrg(tx, connection.orgId)).default_role;
  }

  function reasonOf(decision: RoleDecision, connectionId: string): Record<string, unknown> {
    return decision.source === 'rule'
      ? { source: 'rule', rule_id: decision.ruleId, matched: decision.matched, connection_id: connectionId }
      : { source: 'default', connection_id: connectionId };
  }

  async function decide(
    ctx: Ctx,
    connection: LoadedConnection,
    identity: IdpIdentity,
    email: string | undefined,
  ) {
    const rules = await deps.loadRules(ctx, connection.orgId);
    return decideRole(
      rules,
      { connectionId: connection.id, groups: identity.groups, claims: identity.claims },
      await defaultRoleFor(ctx, connection, email),
    );
  }

  async function signInUser(
    ctx: Ctx,
    connection: LoadedConnection,
    identity: IdpIdentity,
  ): Promise<StartedSession> {
    return withTx(ctx, async (tx) => {
      const { userId } = await userFor(tx, connection, identity);
      const user = await deps.tenancy.getUser(tx, userId);
      if (user?.status !== 'active') throw new GatehouseError(ssoErrors.userInactive);
      const decision = await decide(tx, connection, identity, identity.email ?? user.email);
      await deps.tenancy.applySsoMembership(tx, {
        orgId: connection.orgId,
        userId,
        connectionId: connection.id,
        groups: identity.groups,
        role: decision.role,
        reason: reasonOf(decision, connection.id),
      });
      return deps.sessions.startSession(tx, userId, 'sso', connection.id);
    });
  }

  /** The report of a test sign-in: what the IdP returned and what Gatehouse would do with it. */
  async function testReport(
    ctx: Ctx,
    connection: LoadedConnection,
    identity: IdpIdentity,
  ): Promise<ReportStep[]> {
    const { email, emailVerified } = identity;
    const domain = email ? emailDomain(email) : undefined;
    const claim = domain ? await store.selectDomainByName(ctx, domain) : undefined;
    const domainOk = claim !== undefined && claim.verified_at !== null && claim.org_id === connection.orgId;
    const decision = await decide(ctx, connection, identity, email);
    const groupsSource =
      connection.type === 'saml' ? connection.settings.groups_attribute : connection.settings.groups_claim;
    return [
      ...identity.checks,
      {
        step: 'email',
        ok: email !== undefined && emailVerified,
        detail: email ? `${email} (${emailVerified ? 'verified' : 'NOT verified'})` : 'no email',
      },
      {
        step: 'domain',
        ok: domainOk,
        detail: domainOk
          ? `${domain} is verified for this organization`
          : `${domain ?? '—'} is not a verified domain of this organization`,
      },
      {
        step: 'groups',
        ok: true,
        detail: identity.groups.length ? identity.groups.join(', ') : `no "${groupsSource}" values`,
      },
      {
        step: 'role',
        ok: true,
        detail:
          decision.source === 'rule'
            ? `${decision.role} (rule ${decision.ruleId}, group or value "${decision.matched}")`
            : `${decision.role} (default)`,
      },
    ];
  }

  return { signInUser, testReport };
}
