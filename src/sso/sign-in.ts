// An SSO sign-in from start to session (SPEC §3). Start: a flow row keyed by `state` (the
// SAML RelayState), bound to the browser by a random seed in a cookie (the row keeps its
// digest; the OIDC PKCE verifier and nonce are derived from it; a SAML flow also keeps its
// AuthnRequest id), then the redirect to the IdP. Return: the flow is consumed once (any
// node can finish it), the browser binding checked, the IdP's answer verified
// (oidc/client.ts, saml/service-provider.ts; SAML assertion ids are remembered so a replay is
// refused), then provisioning.ts makes the identity a signed-in member. Every refusal is
// audited with the check that failed.
import type { AuditService } from '../audit/index.ts';
import { authnErrors, type FailureLimiter } from '../authn/index.ts';
import { decideInOrg } from '../authz/index.ts';
import { MINUTE } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { constantTimeEqualDigests, deriveFromSeed, digestSecret, generateSecret } from '../core/secrets.ts';
import type { Ctx } from '../db/index.ts';
import type { SessionsService, StartedSession } from '../sessions/index.ts';
import type { TenancyService } from '../tenancy/index.ts';
import type { LoadedConnection } from './connections.ts';
import { ssoErrors } from './errors.ts';
import { type IdpIdentity, oidcIdentity, type ReportStep, samlIdentity } from './identity.ts';
import type { RoleRule } from './mapping/role-rules.ts';
import { type OidcClient, OidcStepError, type VerifiedSignIn } from './oidc/client.ts';
import { createProvisioning } from './provisioning.ts';
import {
  type ExpectedRequest,
  type SamlIdentity,
  type SamlServiceProvider,
  SamlStepError,
} from './saml/service-provider.ts';
import * as store from './store.ts';

export const FLOW_LIFETIME_MS = 10 * MINUTE;

export type FlowPurpose = 'sign_in' | 'test';

export interface StartedFlow {
  readonly authorizationUrl: string;
  /** SAML comes back as a POST from the IdP's page: the flow cookie must be sent cross-site. */
  readonly returnsByCrossSitePost: boolean;
  /** Goes into the browser's flow cookie, nowhere else. */
  readonly seed: string;
  readonly expiresAt: number;
}

export type FinishedFlow =
  | { readonly purpose: 'sign_in'; readonly session: StartedSession; readonly returnTo: string | null }
  | { readonly purpose: 'test'; readonly connectionId: string; readonly steps: readonly ReportStep[] };

export interface SignInDeps {
  readonly audit: AuditService;
  readonly tenancy: TenancyService;
  readonly sessions: SessionsService;
  readonly oidc: OidcClient;
  readonly saml: SamlServiceProvider;
  readonly redirectUri: string;
  readonly loadConnection: (ctx: Ctx, id: string) => Promise<LoadedConnection | undefined>;
  readonly loadRules: (ctx: Ctx, orgId: string) => Promise<RoleRule[]>;
  /** Sign-ins started per client address: each start writes a flow row, so it is bounded. */
  readonly startLimiter: FailureLimiter;
}

const flowSecrets = (seed: string) => ({
  nonce: deriveFromSeed(seed, 'sso-oidc-nonce'),
  codeVerifier: deriveFromSeed(seed, 'sso-oidc-pkce-verifier'),
});

export function createSignInFunctions(deps: SignInDeps) {
  const { signInUser, testReport } = createProvisioning(deps);
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

  async function requireSsoAdmin(ctx: Ctx, orgId: string): Promise<void> {
    const principal = ctx.principal;
    if (!principal) throw new GatehouseError(authnErrors.authenticationRequired);
    const access = await deps.tenancy.resolveOrgAccess(ctx, principal, orgId);
    if (!access || !decideInOrg(principal, access.role, 'sso:write').allowed)
      throw new GatehouseError(ssoErrors.testSignInForbidden);
  }

  async function startFlow(
    ctx: Ctx,
    connectionId: string,
    input: { purpose: FlowPurpose; returnTo?: string; loginHint?: string },
  ): Promise<StartedFlow> {
    deps.startLimiter.check(ctx.ip, ctx.clock.now());
    deps.startLimiter.recordFailure(ctx.ip, ctx.clock.now());
    const connection = await deps.loadConnection(ctx, connectionId);
    if (!connection) throw new GatehouseError(ssoErrors.connectionNotFound, { field: 'connection_id' });
    // A test sign-in is the connection's admins' (its report shows what the IdP sends).
    if (input.purpose === 'test') await requireSsoAdmin(ctx, connection.orgId);
    // An admin may try a disabled connection before turning it on.
    if (!connection.enabled && input.purpose === 'sign_in')
      throw new GatehouseError(ssoErrors.connectionDisabled);
    const seed = generateSecret(32);
    const state = generateSecret(24);
    let url: string;
    let samlRequestId: string | null = null;
    try {
      if (connection.type === 'saml') {
        const request = await deps.saml.authorizationUrl(connection.id, connection.settings, state);
        url = request.url;
        samlRequestId = request.requestId;
      } else {
        const built = await deps.oidc.authorizationUrl(connection, {
          redirectUri: deps.redirectUri,
          state,
          ...flowSecrets(seed),
          loginHint: input.loginHint,
        });
        url = built.href;
      }
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
      saml_request_id: samlRequestId,
      created_at: now,
      expires_at: now + FLOW_LIFETIME_MS,
      consumed_at: null,
    });
    return {
      authorizationUrl: url,
      returnsByCrossSitePost: connection.type === 'saml',
      seed,
      expiresAt: now + FLOW_LIFETIME_MS,
    };
  }

  /** Consumes the flow named by `state` and checks it belongs to this browser. */
  async function consumeFlow(ctx: Ctx, state: string | undefined, seed: string | undefined) {
    const flow = state ? await store.consumeFlow(ctx, state, ctx.clock.now()) : undefined;
    if (!flow) {
      // A used or expired flow is recorded in its org's log (a replay is worth an admin's eye);
      // a state Gatehouse never issued only in the instance log.
      const known = state ? await store.selectFlow(ctx, state) : undefined;
      const owner = known ? await deps.loadConnection(ctx, known.connection_id) : undefined;
      const reason = !known ? 'flow_invalid' : known.consumed_at !== null ? 'flow_replayed' : 'flow_expired';
      await auditFailure(ctx, owner, reason);
      throw new GatehouseError(ssoErrors.flowInvalid);
    }
    const connection = await deps.loadConnection(ctx, flow.connection_id);
    if (!connection) throw new GatehouseError(ssoErrors.flowInvalid);
    if (!seed || !constantTimeEqualDigests(digestSecret(seed), flow.binding_digest)) {
      await auditFailure(ctx, connection, 'browser_mismatch');
      throw new GatehouseError(ssoErrors.flowBrowserMismatch);
    }
    const purpose: FlowPurpose = flow.purpose === 'test' ? 'test' : 'sign_in';
    if (purpose === 'sign_in' && !connection.enabled) {
      await auditFailure(ctx, connection, 'connection_disabled');
      throw new GatehouseError(ssoErrors.connectionDisabled);
    }
    return { flow, connection, purpose, seed };
  }

  /** A protocol check failed: audited, then a report line (test sign-in) or the refusal. */
  async function protocolFailure(
    ctx: Ctx,
    connection: LoadedConnection,
    purpose: FlowPurpose,
    failure: { step: string; reason: string; idpRefused: boolean; cause: unknown },
  ): Promise<FinishedFlow> {
    await auditFailure(ctx, connection, 'response_rejected', {
      step: failure.step,
      detail: failure.reason,
      purpose,
    });
    if (purpose === 'test')
      return {
        purpose,
        connectionId: connection.id,
        steps: [{ step: failure.step, ok: false, detail: failure.reason }],
      };
    throw new GatehouseError(failure.idpRefused ? ssoErrors.idpError : ssoErrors.responseRejected, {
      detail: `${failure.step}: ${failure.reason}`,
      cause: failure.cause,
    });
  }

  /** The verified identity becomes a session, or a report for a test sign-in. */
  async function conclude(
    ctx: Ctx,
    connection: LoadedConnection,
    purpose: FlowPurpose,
    identity: IdpIdentity,
    returnTo: string | null,
  ): Promise<FinishedFlow> {
    if (purpose === 'test') {
      const steps = await testReport(ctx, connection, identity);
      await deps.audit.append(ctx, {
        orgId: connection.orgId,
        action: 'sso.connection_tested',
        target: { kind: 'sso_connection', id: connection.id },
        data: { ok: steps.every((s) => s.ok), failed: steps.filter((s) => !s.ok).map((s) => s.step) },
      });
      return { purpose, connectionId: connection.id, steps };
    }
    try {
      const session = await signInUser(ctx, connection, identity);
      return { purpose, session, returnTo };
    } catch (error) {
      if (error instanceof GatehouseError && error.status < 500)
        await auditFailure(ctx, connection, error.code, {
          subject: identity.subject,
          ...(error.detail ? { detail: error.detail } : {}),
        });
      throw error;
    }
  }

  /** The OIDC callback: consumes the flow and signs the user in (or reports, for a test sign-in). */
  async function finishFlow(
    ctx: Ctx,
    input: { state: string | undefined; seed: string | undefined; callbackUrl: URL },
  ): Promise<FinishedFlow> {
    const { flow, connection, purpose, seed } = await consumeFlow(ctx, input.state, input.seed);
    if (connection.type !== 'oidc') throw new GatehouseError(ssoErrors.flowInvalid);
    let signIn: VerifiedSignIn;
    try {
      signIn = await deps.oidc.completeSignIn(connection, input.callbackUrl, {
        state: flow.state,
        ...flowSecrets(seed),
      });
    } catch (error) {
      const step = error instanceof OidcStepError ? error.step : 'token_exchange';
      const reason = error instanceof OidcStepError ? error.reason : 'unexpected error';
      return protocolFailure(ctx, connection, purpose, {
        step,
        reason,
        idpRefused: step === 'authorization_response' && /answered/.test(reason),
        cause: error,
      });
    }
    return conclude(ctx, connection, purpose, oidcIdentity(connection, signIn), flow.return_to);
  }

  /**
   * The SAML ACS: a Response posted by the browser, for the connection in the URL. With a
   * RelayState it must answer the AuthnRequest of this browser's flow; without one it is
   * IdP-initiated, refused unless the connection allows it.
   */
  async function finishSamlFlow(
    ctx: Ctx,
    input: {
      connectionId: string;
      samlResponse: string;
      relayState: string | undefined;
      seed: string | undefined;
    },
  ): Promise<FinishedFlow> {
    let connection: LoadedConnection | undefined;
    let purpose: FlowPurpose = 'sign_in';
    let expected: ExpectedRequest | null = null;
    let returnTo: string | null = null;
    if (input.relayState) {
      const consumed = await consumeFlow(ctx, input.relayState, input.seed);
      if (consumed.connection.id !== input.connectionId || consumed.flow.saml_request_id === null) {
        await auditFailure(ctx, consumed.connection, 'flow_connection_mismatch');
        throw new GatehouseError(ssoErrors.flowInvalid);
      }
      ({ connection, purpose } = consumed);
      expected = { requestId: consumed.flow.saml_request_id, issuedAt: Number(consumed.flow.created_at) };
      returnTo = consumed.flow.return_to;
    } else {
      connection = await deps.loadConnection(ctx, input.connectionId);
      if (connection?.type !== 'saml') throw new GatehouseError(ssoErrors.flowInvalid);
      if (!connection.settings.allow_unsolicited || !connection.enabled) {
        await auditFailure(ctx, connection, 'unsolicited_refused');
        throw new GatehouseError(ssoErrors.unsolicitedRefused);
      }
    }
    if (connection.type !== 'saml') throw new GatehouseError(ssoErrors.flowInvalid);
    let verified: SamlIdentity;
    try {
      verified = await deps.saml.validateResponse(
        connection.id,
        connection.settings,
        input.samlResponse,
        expected,
      );
    } catch (error) {
      const step = error instanceof SamlStepError ? error.step : 'saml_response';
      const reason = error instanceof SamlStepError ? error.reason : 'unexpected error';
      if (!(error instanceof SamlStepError))
        ctx.log.error({ err: error }, 'SAML validation failed unexpectedly');
      return protocolFailure(ctx, connection, purpose, {
        step,
        reason,
        idpRefused: /status/i.test(reason),
        cause: error,
      });
    }
    if (!(await store.recordSamlAssertion(ctx, connection.id, verified.assertionId, verified.validUntil))) {
      await auditFailure(ctx, connection, 'assertion_replayed', { assertion_id: verified.assertionId });
      throw new GatehouseError(ssoErrors.assertionReplayed);
    }
    return conclude(ctx, connection, purpose, samlIdentity(connection, verified), returnTo);
  }

  return { startFlow, finishFlow, finishSamlFlow };
}
