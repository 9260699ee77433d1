// An SSO sign-in from start to session (SPEC §3). Start: a flow row keyed by `state`, bound
// to the browser by a random seed in a cookie (the row keeps its digest; the PKCE verifier
// and nonce are derived from it), then the redirect to the IdP. Callback: the flow is
// consumed once (any node can finish it), the browser binding checked, the code exchanged
// and the ID token verified (oidc/client.ts), then the identity is linked or provisioned,
// the membership and groups synced and the role decided by the org's rules, and a session
// started, all in one transaction. Every refusal is audited with the check that failed.
import type { AuditService } from '../audit/index.ts';
import { isRole, type Role } from '../authz/index.ts';
import { MINUTE } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { constantTimeEqualDigests, deriveFromSeed, digestSecret, generateSecret } from '../core/secrets.ts';
import { type Ctx, withTx } from '../db/index.ts';
import type { SessionsService, StartedSession } from '../sessions/index.ts';
import type { TenancyService } from '../tenancy/index.ts';
import type { LoadedConnection } from './connections.ts';
import { ssoErrors } from './errors.ts';
import { emailDomain } from './mapping/domains.ts';
import { decideRole, groupsFromClaim, type RoleDecision, type RoleRule } from './mapping/role-rules.ts';
import { type OidcClient, OidcStepError, type VerifiedSignIn } from './oidc/client.ts';
import * as store from './store.ts';

export const FLOW_LIFETIME_MS = 10 * MINUTE;

export type FlowPurpose = 'sign_in' | 'test';

export interface StartedFlow {
  readonly authorizationUrl: string;
  /** Goes into the browser's flow cookie, nowhere else. */
  readonly seed: string;
  readonly expiresAt: number;
}

/** One line of the test sign-in report. */
export interface ReportStep {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: string;
}

export type FinishedFlow =
  | { readonly purpose: 'sign_in'; readonly session: StartedSession; readonly returnTo: string | null }
  | { readonly purpose: 'test'; readonly connectionId: string; readonly steps: readonly ReportStep[] };

export interface SignInDeps {
  readonly audit: AuditService;
  readonly tenancy: TenancyService;
  readonly sessions: SessionsService;
  readonly oidc: OidcClient;
  readonly redirectUri: string;
  readonly loadConnection: (ctx: Ctx, id: string) => Promise<LoadedConnection | undefined>;
  readonly loadRules: (ctx: Ctx, orgId: string) => Promise<RoleRule[]>;
}

const flowSecrets = (seed: string) => ({
  nonce: deriveFromSeed(seed, 'sso-oidc-nonce'),
  codeVerifier: deriveFromSeed(seed, 'sso-oidc-pkce-verifier'),
});

/** An email the IdP vouches for: OIDC `email_verified` true (some IdPs send the string). */
function verifiedEmail(claims: Readonly<Record<string, unknown>>): { email?: string; verified: boolean } {
  const email = typeof claims.email === 'string' ? claims.email.trim() : undefined;
  const flag = claims.email_verified;
  return { email: email || undefined, verified: flag === true || flag === 'true' };
}

export function createSignInFunctions(deps: SignInDeps) {
  async function auditFailure(
    ctx: Ctx,
    connection: LoadedConnection | undefined,
    reason: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await deps.audit.append(ctx, {
      orgId: connection?.orgId ?? null,
      action: 'user.sign_in_failed',
      actor: { kind: 'anonymous', id: null },
      ...(connection ? { target: { kind: 'sso_connection', id: connection.id } } : {}),
      data: { method: 'sso', reason, ...extra },
    });
  }

  async function startFlow(
    ctx: Ctx,
    connectionId: string,
    input: { purpose: FlowPurpose; returnTo?: string; loginHint?: string },
  ): Promise<StartedFlow> {
    const connection = await deps.loadConnection(ctx, connectionId);
    if (!connection) throw new GatehouseError(ssoErrors.connectionNotFound, { field: 'connection_id' });
    // An admin may try a disabled connection before turning it on.
    if (!connection.enabled && input.purpose === 'sign_in')
      throw new GatehouseError(ssoErrors.connectionDisabled);
    const seed = generateSecret(32);
    const state = generateSecret(24);
    let url: URL;
    try {
      url = await deps.oidc.authorizationUrl(connection, {
        redirectUri: deps.redirectUri,
        state,
        ...flowSecrets(seed),
        loginHint: input.loginHint,
      });
    } catch (error) {
      ctx.log.warn(
        { connection_id: connection.id, reason: (error as Error).message },
        'SSO discovery failed',
      );
      throw new GatehouseError(ssoErrors.discoveryFailed, { detail: (error as Error).message, cause: error });
    }
    const now = ctx.clock.now();
    await store.insertFlow(ctx, {
      state,
      connection_id: connection.id,
      binding_digest: digestSecret(seed),
      purpose: input.purpose,
      return_to: input.returnTo ?? null,
      login_hint: input.loginHint?.slice(0, 320) ?? null,
      created_at: now,
      expires_at: now + FLOW_LIFETIME_MS,
      consumed_at: null,
    });
    return { authorizationUrl: url.href, seed, expiresAt: now + FLOW_LIFETIME_MS };
  }

  /** The user the IdP's identity stands for: the linked one, or a new or linked account (JIT). */
  async function userFor(
    tx: Ctx,
    connection: LoadedConnection,
    signIn: VerifiedSignIn,
  ): Promise<{ userId: string; provisioned: boolean; linked: boolean }> {
    const identity = await store.selectIdentity(tx, connection.id, signIn.subject);
    const { email, verified } = verifiedEmail(signIn.claims);
    const now = tx.clock.now();
    if (identity) {
      if (email && verified) await store.touchIdentity(tx, connection.id, signIn.subject, email, now);
      return { userId: identity.user_id, provisioned: false, linked: false };
    }
    if (!email) throw new GatehouseError(ssoErrors.emailMissing);
    if (!verified) throw new GatehouseError(ssoErrors.emailUnverified, { detail: email });
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
      const name =
        typeof signIn.claims.name === 'string' && signIn.claims.name.trim() ? signIn.claims.name : email;
      const user = await deps.tenancy.createUser(tx, { email, name: name.slice(0, 200) });
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
      subject: signIn.subject,
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
        subject: signIn.subject,
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

  async function signInUser(
    ctx: Ctx,
    connection: LoadedConnection,
    signIn: VerifiedSignIn,
  ): Promise<StartedSession> {
    return withTx(ctx, async (tx) => {
      const { userId } = await userFor(tx, connection, signIn);
      const user = await deps.tenancy.getUser(tx, userId);
      if (user?.status !== 'active') throw new GatehouseError(ssoErrors.userInactive);
      const groups = groupsFromClaim(signIn.claims[connection.settings.groups_claim]);
      const { email } = verifiedEmail(signIn.claims);
      const rules = await deps.loadRules(tx, connection.orgId);
      const decision = decideRole(
        rules,
        { connectionId: connection.id, groups, claims: signIn.claims },
        await defaultRoleFor(tx, connection, email ?? user.email),
      );
      await deps.tenancy.applySsoMembership(tx, {
        orgId: connection.orgId,
        userId,
        connectionId: connection.id,
        groups,
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
    signIn: VerifiedSignIn,
  ): Promise<ReportStep[]> {
    const { email, verified } = verifiedEmail(signIn.claims);
    const groups = groupsFromClaim(signIn.claims[connection.settings.groups_claim]);
    const domain = email ? emailDomain(email) : undefined;
    const claim = domain ? await store.selectDomainByName(ctx, domain) : undefined;
    const domainOk = claim !== undefined && claim.verified_at !== null && claim.org_id === connection.orgId;
    const rules = await deps.loadRules(ctx, connection.orgId);
    const decision = decideRole(
      rules,
      { connectionId: connection.id, groups, claims: signIn.claims },
      await defaultRoleFor(ctx, connection, email),
    );
    return [
      { step: 'discovery', ok: true, detail: connection.settings.issuer },
      { step: 'authorization_response', ok: true, detail: 'code and state returned' },
      { step: 'token_exchange', ok: true, detail: 'code exchanged with PKCE' },
      {
        step: 'id_token',
        ok: true,
        detail: `signature, iss, aud, exp, iat and nonce valid; sub ${signIn.subject}`,
      },
      { step: 'userinfo', ok: true, detail: signIn.userinfoUsed ? 'claims merged' : 'not used' },
      {
        step: 'email',
        ok: email !== undefined && verified,
        detail: email ? `${email} (${verified ? 'verified' : 'NOT verified'})` : 'no email claim',
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
        detail: groups.length ? groups.join(', ') : `no "${connection.settings.groups_claim}" claim`,
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

  /** The callback: consumes the flow and signs the user in (or reports, for a test sign-in). */
  async function finishFlow(
    ctx: Ctx,
    input: { state: string | undefined; seed: string | undefined; callbackUrl: URL },
  ): Promise<FinishedFlow> {
    const flow = input.state ? await store.consumeFlow(ctx, input.state, ctx.clock.now()) : undefined;
    if (!flow) {
      await auditFailure(ctx, undefined, 'flow_invalid');
      throw new GatehouseError(ssoErrors.flowInvalid);
    }
    const connection = await deps.loadConnection(ctx, flow.connection_id);
    if (!connection) throw new GatehouseError(ssoErrors.flowInvalid);
    if (!input.seed || !constantTimeEqualDigests(digestSecret(input.seed), flow.binding_digest)) {
      await auditFailure(ctx, connection, 'browser_mismatch');
      throw new GatehouseError(ssoErrors.flowBrowserMismatch);
    }
    const purpose: FlowPurpose = flow.purpose === 'test' ? 'test' : 'sign_in';
    if (purpose === 'sign_in' && !connection.enabled) {
      await auditFailure(ctx, connection, 'connection_disabled');
      throw new GatehouseError(ssoErrors.connectionDisabled);
    }
    let signIn: VerifiedSignIn;
    try {
      signIn = await deps.oidc.completeSignIn(connection, input.callbackUrl, {
        state: flow.state,
        ...flowSecrets(input.seed),
      });
    } catch (error) {
      const step = error instanceof OidcStepError ? error.step : 'token_exchange';
      const reason = error instanceof OidcStepError ? error.reason : 'unexpected error';
      await auditFailure(ctx, connection, 'response_rejected', { step, detail: reason, purpose });
      if (purpose === 'test')
        return { purpose, connectionId: connection.id, steps: [{ step, ok: false, detail: reason }] };
      const definition =
        step === 'authorization_response' && /answered/.test(reason)
          ? ssoErrors.idpError
          : ssoErrors.responseRejected;
      throw new GatehouseError(definition, { detail: `${step}: ${reason}`, cause: error });
    }
    if (purpose === 'test') {
      const steps = await testReport(ctx, connection, signIn);
      await deps.audit.append(ctx, {
        orgId: connection.orgId,
        action: 'sso.connection_tested',
        target: { kind: 'sso_connection', id: connection.id },
        data: { ok: steps.every((s) => s.ok), failed: steps.filter((s) => !s.ok).map((s) => s.step) },
      });
      return { purpose, connectionId: connection.id, steps };
    }
    try {
      const session = await signInUser(ctx, connection, signIn);
      return { purpose, session, returnTo: flow.return_to };
    } catch (error) {
      if (error instanceof GatehouseError && error.status < 500)
        await auditFailure(ctx, connection, error.code, {
          subject: signIn.subject,
          ...(error.detail ? { detail: error.detail } : {}),
        });
      throw error;
    }
  }

  return { startFlow, finishFlow };
}
