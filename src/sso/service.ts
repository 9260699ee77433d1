// The SSO service (SPEC §3): connections, claimed domains, role rules, home-realm discovery
// and the sign-in flow, wired from their parts. No Fastify here.
import type { AuditService } from '../audit/index.ts';
import { createFailureLimiter } from '../authn/index.ts';
import type { Role } from '../authz/index.ts';
import type { Clock } from '../core/clock.ts';
import type { MasterKeyRing } from '../core/secrets.ts';
import type { Ctx } from '../db/index.ts';
import type { SessionsService } from '../sessions/index.ts';
import type { DirectoryRoleRules, TenancyService } from '../tenancy/index.ts';
import { createConnectionFunctions } from './connections.ts';
import { ssoErrors } from './errors.ts';
import { createDomainFunctions, type TxtResolver } from './mapping/domain-claims.ts';
import { emailDomain } from './mapping/domains.ts';
import { decideRole } from './mapping/role-rules.ts';
import { createRuleSetFunctions } from './mapping/rule-set.ts';
import { createOidcClient, isAcceptableIssuer } from './oidc/client.ts';
import { createMetadataRefresh } from './saml/metadata-refresh.ts';
import { createSamlServiceProvider } from './saml/service-provider.ts';
import { createSignInFunctions } from './sign-in.ts';
import * as store from './store.ts';

/** SSO sign-ins one client address may start per minute (each writes a flow row). */
export const SIGN_IN_STARTS_PER_MINUTE = 30;

/** The one redirect URI of every OIDC connection: the flow's state says which connection it is. */
export const OIDC_CALLBACK_PATH = '/sso/oidc/callback';

export interface SsoDeps {
  readonly audit: AuditService;
  readonly tenancy: TenancyService;
  readonly sessions: SessionsService;
  readonly clock: Clock;
  readonly keyRing: MasterKeyRing;
  readonly publicUrl: string;
  readonly clockToleranceSeconds: number;
  readonly resolveTxt?: TxtResolver;
}

export function createSsoService(deps: SsoDeps) {
  const redirectUri = `${deps.publicUrl}${OIDC_CALLBACK_PATH}`;
  const oidc = createOidcClient({
    clock: deps.clock,
    clockToleranceSeconds: deps.clockToleranceSeconds,
    maxIdTokenAgeSeconds: 300,
    timeoutSeconds: 10,
  });
  const saml = createSamlServiceProvider({
    publicUrl: deps.publicUrl,
    clockSkewMs: deps.clockToleranceSeconds * 1000,
  });
  const connections = createConnectionFunctions({
    audit: deps.audit,
    keyRing: deps.keyRing,
    redirectUri,
    publicUrl: deps.publicUrl,
    acceptableUrl: isAcceptableIssuer,
    onChanged: (id) => oidc.forget(id),
  });
  const rules = createRuleSetFunctions({ audit: deps.audit });
  const metadataRefresh = createMetadataRefresh({
    audit: deps.audit,
    acceptableUrl: isAcceptableIssuer,
    onChanged: (id) => oidc.forget(id),
  });
  const domains = createDomainFunctions({ audit: deps.audit, resolveTxt: deps.resolveTxt });
  const signIn = createSignInFunctions({
    audit: deps.audit,
    tenancy: deps.tenancy,
    sessions: deps.sessions,
    oidc,
    saml,
    redirectUri,
    loadConnection: connections.loadConnection,
    loadRules: rules.loadRules,
    startLimiter: createFailureLimiter(
      { enabled: true, maxFailures: SIGN_IN_STARTS_PER_MINUTE, windowMs: 60_000, maxAddresses: 100_000 },
      ssoErrors.tooManyStarts,
    ),
  });

  /**
   * Home-realm discovery: the enabled connection a verified domain routes its users to, or
   * undefined (then the password form). Unknown and unverified domains answer alike.
   */
  async function discoverConnection(ctx: Ctx, email: string): Promise<string | undefined> {
    const domain = emailDomain(email);
    const claim = domain ? await store.selectDomainByName(ctx, domain) : undefined;
    if (!claim || claim.verified_at === null || claim.connection_id === null) return undefined;
    const connection = await store.selectConnection(ctx, claim.org_id, claim.connection_id);
    return connection?.enabled === 1 ? connection.id : undefined;
  }

  /**
   * The org's role rules as SCIM provisioning applies them: group rules that hold for every
   * connection (a directory push comes through none), over the org's default role.
   */
  async function loadDirectoryRoleRules(
    ctx: Ctx,
    orgId: string,
    defaultRole: Role,
  ): Promise<DirectoryRoleRules> {
    const all = await rules.loadRules(ctx, orgId);
    const applicable = all.filter((rule) => rule.connectionId === undefined && rule.matchKind === 'group');
    return (groups) => {
      const decision = decideRole(applicable, { connectionId: '', groups, claims: {} }, defaultRole);
      return {
        role: decision.role,
        reason:
          decision.source === 'rule'
            ? { source: 'rule', rule_id: decision.ruleId, matched: decision.matched, via: 'scim' }
            : { source: 'default', via: 'scim' },
      };
    };
  }

  /** Whether `orgId` holds the verified claim on the domain of `email`. */
  async function ownsEmailDomain(ctx: Ctx, orgId: string, email: string): Promise<boolean> {
    const domain = emailDomain(email);
    const claim = domain ? await store.selectDomainByName(ctx, domain) : undefined;
    return claim !== undefined && claim.org_id === orgId && claim.verified_at !== null;
  }

  /** Deletes sign-ins that were never finished and can no longer be (main.ts runs this on a timer). */
  const purgeExpiredFlows = async (ctx: Ctx) =>
    (await store.deleteExpiredFlows(ctx, ctx.clock.now())) +
    (await store.deleteExpiredSamlAssertions(ctx, ctx.clock.now()));

  return {
    purgeExpiredFlows,
    loadDirectoryRoleRules,
    ownsEmailDomain,
    refreshSamlMetadata: metadataRefresh.refreshSamlMetadata,
    ...connections,
    ...domains,
    listRules: rules.listRules,
    createRule: rules.createRule,
    deleteRule: rules.deleteRule,
    previewRules: rules.previewRules,
    explainRole: deps.tenancy.explainRole,
    startFlow: signIn.startFlow,
    finishFlow: signIn.finishFlow,
    finishSamlFlow: signIn.finishSamlFlow,
    serviceProviderMetadata: async (ctx: Ctx, connectionId: string) => {
      const connection = await connections.loadConnection(ctx, connectionId);
      return connection?.type === 'saml'
        ? saml.serviceProviderMetadata(connection.id, connection.settings)
        : undefined;
    },
    discoverConnection,
  };
}

export type SsoService = ReturnType<typeof createSsoService>;
