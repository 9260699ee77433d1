// buildApp: the Fastify instance, its surfaces, and each capability's routes registered
// into its surface. No business logic here.
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { v1ApiKeyRoutes, v1ScimTokenRoutes } from './apikeys/index.ts';
import { v1AuditRoutes } from './audit/index.ts';
import {
  API_HEADERS,
  admitToOrg,
  admitToSelfRoute,
  collectRoutes,
  createForwardAuthFastPath,
  createMetricsRegistry,
  type FastPath,
  type InFlightTracker,
  jsonErrorAnswer,
  type RouteEntry,
  refusalFor,
  registerBrowserSurface,
  registerForwardAuth,
  registerOpsRoutes,
  registerRequestLifecycle,
  registerScimSurface,
  registerServiceCounters,
  registerStaticAssets,
  registerV1Surface,
  requestIdFor,
  requestLogController,
  requestLoggerFactory,
  sendJsonError,
  serverWithFastPath,
} from './http/index.ts';
import { mcpRoutes } from './mcp/index.ts';
import {
  interactionRoutes,
  OAUTH_PATH,
  oauthRoutes,
  v1GrantRoutes,
  v1ServiceAccountClientRoutes,
} from './oauth/index.ts';
import { scimDiscoveryRoutes, scimResourceRoutes } from './scim/index.ts';
import type { Services } from './services.ts';
import { browserSessionRoutes, v1SessionRoutes } from './sessions/index.ts';
import { browserSsoRoutes, v1SsoRoutes } from './sso/index.ts';
import { v1TenancyResourceRoutes, v1TenancyRoutes } from './tenancy/index.ts';

export interface BuiltApp {
  readonly app: FastifyInstance;
  readonly routes: readonly RouteEntry[];
  /** main.ts starts draining on SIGTERM and waits for in-flight handlers before closing the database. */
  readonly drain: InFlightTracker;
}

export async function buildApp(services: Services, logger: PinoLogger): Promise<BuiltApp> {
  const { config } = services;
  // Fastify makes the server before the fast path's parts exist; it is installed below, and
  // until then every request goes to Fastify.
  let fastPath: FastPath = () => false;
  const app = Fastify({
    serverFactory: serverWithFastPath(() => fastPath),
    loggerInstance: logger as FastifyBaseLogger,
    childLoggerFactory: requestLoggerFactory as never,
    logController: requestLogController(logger),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy.enabled ? [...config.trustProxy.addresses] : false,
    genReqId: (request) => requestIdFor(request.headers['x-request-id']),
    return503OnClosing: true,
    // Unknown body fields are refused (400 naming the field), not silently dropped, so
    // `additionalProperties: false` in a schema means what it says.
    ajv: { customOptions: { removeAdditional: false } },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
  });
  const routes: RouteEntry[] = [];
  collectRoutes(app, routes);

  app.decorateRequest('ctx', null as never);
  app.decorateRequest('auth', undefined);
  app.decorateRequest('orgAccess', undefined);
  app.decorateRequest('csrfToken', undefined);
  const registry = createMetricsRegistry();
  const { drain, durations } = registerRequestLifecycle(app, {
    db: services.database.db,
    clock: services.clock,
    registry,
  });
  const forwardAuthFastPath = createForwardAuthFastPath({
    resolver: services.resolver,
    tenancy: services.tenancy,
    db: services.database.db,
    clock: services.clock,
    logger,
    drain,
    durations,
    trustProxy: config.trustProxy.enabled ? config.trustProxy.addresses : false,
  });
  fastPath = forwardAuthFastPath.handle;
  await app.register(cookie);
  app.setErrorHandler((error, request, reply) => sendJsonError(request, reply, error));

  const keyStats = services.apiKeys.lookupStats;
  registerServiceCounters(registry, [
    {
      name: 'gatehouse_api_key_store_lookups_total',
      help: 'API keys looked up in the database (not answered from the verified or negative cache)',
      read: () => keyStats().storeLookups,
    },
    {
      name: 'gatehouse_api_key_cache_hits_total',
      help: 'API keys answered from the cache of verified keys',
      read: () => keyStats().cacheHits,
    },
    {
      name: 'gatehouse_forward_auth_fast_path_answers_total',
      help: 'Forward-auth checks answered ahead of the router (plain GET with an Authorization header)',
      read: forwardAuthFastPath.answered,
    },
    {
      name: 'gatehouse_api_key_negative_cache_hits_total',
      help: 'API keys refused from the cache of keys known to be invalid',
      read: () => keyStats().negativeHits,
    },
  ]);
  registerOpsRoutes(app, { readiness: services.database, registry });

  const routeOptions = {
    tenancy: services.tenancy,
    sessions: services.sessions,
    bootstrap: services.bootstrap,
    audit: services.audit,
    apiKeys: services.apiKeys,
    cookies: services.cookies,
    secureCookies: config.secureCookies,
    sso: services.sso,
    publicUrl: config.publicUrl,
    discoverSsoConnection: services.sso.discoverConnection,
  };
  await registerV1Surface(
    app,
    { resolver: services.resolver, tenancy: services.tenancy, csrfKey: services.keys.csrf },
    async (v1) => {
      await v1.register(v1TenancyRoutes, routeOptions);
      await v1.register(v1TenancyResourceRoutes, routeOptions);
      await v1.register(v1SessionRoutes, routeOptions);
      await v1.register(v1AuditRoutes, routeOptions);
      await v1.register(v1ApiKeyRoutes, routeOptions);
      await v1.register(v1ScimTokenRoutes, { scimTokens: services.scimTokens });
      await v1.register(v1SsoRoutes, routeOptions);
      await v1.register(v1GrantRoutes, { consents: services.oauth.consents });
      await v1.register(v1ServiceAccountClientRoutes, {
        serviceAccountClients: services.oauth.serviceAccountClients,
        tenancy: services.tenancy,
        tokenEndpoint: `${config.publicUrl}${OAUTH_PATH}/token`,
      });
      registerForwardAuth(v1, services.tenancy);
    },
  );
  await services.oauth.initialize(services.systemContext('oauth-start'));
  await app.register(oauthRoutes, {
    provider: services.oauth.provider,
    publicUrl: config.publicUrl,
    checkClientAddress: services.oauth.checkClientAddress,
    admitRegistration: services.oauth.admitRegistration,
  });
  await app.register(mcpRoutes, {
    resolver: services.resolver,
    tenancy: services.tenancy,
    apiKeys: services.apiKeys,
    audit: services.audit,
    publicUrl: config.publicUrl,
    // The /v1 guard and error rendering, so each tool is admitted and refused as its /v1 twin is.
    guard: {
      admitToOrg: (ctx, auth, orgRef, permission) =>
        admitToOrg(ctx, auth, services.tenancy, orgRef, permission),
      admitToSelf: admitToSelfRoute,
      refusalFor,
    },
    renderError: jsonErrorAnswer,
    answerHeaders: API_HEADERS,
  });
  await registerScimSurface(app, { resolver: services.resolver, tenancy: services.tenancy }, async (scim) => {
    await scim.register(scimDiscoveryRoutes, { baseUrl: `${config.publicUrl}/scim/v2` });
    await scim.register(scimResourceRoutes, { scim: services.scim });
  });
  await registerBrowserSurface(
    app,
    {
      resolver: services.resolver,
      tenancy: services.tenancy,
      formCsrf: {
        cookieName: services.cookies.formCsrf,
        secure: config.secureCookies,
        key: services.keys.formCsrf,
      },
    },
    async (browser) => {
      await browser.register(browserSessionRoutes, routeOptions);
      await browser.register(browserSsoRoutes, routeOptions);
      await browser.register(interactionRoutes, {
        provider: services.oauth.provider,
        consents: services.oauth.consents,
        tenancy: services.tenancy,
      });
      registerStaticAssets(browser);
    },
  );
  return { app, routes, drain };
}
