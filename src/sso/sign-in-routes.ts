// The browser side of SSO sign-in (SPEC §3): the start of a flow (OIDC or SAML), the OIDC
// callback, the SAML ACS and the SP metadata an admin gives the IdP. On success the session
// cookie is set (ending any session this browser had); a test sign-in shows its report.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../core/errors.ts';
import { establishBrowserSession, safeReturnTo } from '../sessions/index.ts';
import { renderSsoTestReport } from '../web/index.ts';
import { ssoErrors } from './errors.ts';
import type { SsoRouteOptions } from './routes.ts';
import { OIDC_CALLBACK_PATH } from './service.ts';
import { type FinishedFlow, FLOW_LIFETIME_MS } from './sign-in.ts';

/** The browser's flow cookie: the seed that binds a sign-in to the browser that started it. */
function flowCookieName(secure: boolean): string {
  return secure ? '__Secure-gatehouse_sso' : 'gatehouse_sso';
}

const StartQuery = Type.Object({
  login_hint: Type.Optional(Type.String({ maxLength: 320 })),
  return_to: Type.Optional(Type.String({ maxLength: 512 })),
  test: Type.Optional(Type.Literal('1')),
});
const StartParams = Type.Object({ connection_id: Type.String({ pattern: '^ssc_[0-9a-z]{26}$' }) });
const SamlParams = StartParams;
const AcsBody = Type.Object({
  SAMLResponse: Type.String({ minLength: 1, maxLength: 400 * 1024 }),
  RelayState: Type.Optional(Type.String({ maxLength: 200 })),
});

export const browserSsoRoutes: FastifyPluginAsync<SsoRouteOptions> = async (app, opts) => {
  const { sso, secureCookies } = opts;
  const flowCookie = flowCookieName(secureCookies);
  // Under /sso, where start and callback live; Lax is sent on the IdP's top-level redirect back.
  const flowCookieOptions = { path: '/sso', httpOnly: true, sameSite: 'lax' as const, secure: secureCookies };

  app.get<{ Params: Static<typeof StartParams>; Querystring: Static<typeof StartQuery> }>(
    '/sso/:connection_id/start',
    { config: { permission: 'public' }, schema: { params: StartParams, querystring: StartQuery } },
    async function startSsoSignIn(request, reply: FastifyReply) {
      const { login_hint, return_to, test } = request.query;
      const flow = await sso.startFlow(request.ctx, request.params.connection_id, {
        purpose: test === '1' ? 'test' : 'sign_in',
        loginHint: login_hint,
        returnTo: return_to === undefined ? undefined : safeReturnTo(return_to),
      });
      // A SAML response comes back as a POST from the IdP's page: on https the cookie must be
      // SameSite=None to be sent with it (browsers refuse None without Secure; on plain http,
      // used for loopback development, Lax is kept).
      const sameSite = flow.returnsByCrossSitePost && secureCookies ? ('none' as const) : ('lax' as const);
      reply.setCookie(flowCookie, flow.seed, {
        ...flowCookieOptions,
        sameSite,
        maxAge: FLOW_LIFETIME_MS / 1000,
      });
      return reply.redirect(flow.authorizationUrl, 303);
    },
  );

  /** Signs the browser in after a finished flow, or shows the test report. */
  async function land(request: FastifyRequest, reply: FastifyReply, finished: FinishedFlow) {
    if (finished.purpose === 'test')
      return reply.type('text/html; charset=utf-8').send(renderSsoTestReport({ steps: finished.steps }));
    await establishBrowserSession(request, reply, opts, finished.session);
    return reply.redirect(safeReturnTo(finished.returnTo ?? undefined), 303);
  }

  app.get<{ Params: Static<typeof SamlParams> }>(
    '/sso/saml/:connection_id/metadata',
    { config: { permission: 'public' }, schema: { params: SamlParams } },
    async function samlServiceProviderMetadata(request, reply) {
      const xml = await sso.serviceProviderMetadata(request.ctx, request.params.connection_id);
      if (!xml) throw new GatehouseError(ssoErrors.connectionNotFound, { field: 'connection_id' });
      return reply.type('application/samlmetadata+xml; charset=utf-8').send(xml);
    },
  );

  app.post<{ Params: Static<typeof SamlParams>; Body: Static<typeof AcsBody> }>(
    '/sso/saml/:connection_id/acs',
    {
      config: { permission: 'public', csrf: 'signed_cross_site_post' },
      // Responses with many groups run past the browser surface's 64 KiB form limit.
      bodyLimit: 512 * 1024,
      schema: { params: SamlParams, body: AcsBody },
    },
    async function samlAssertionConsumer(request, reply) {
      const seed = request.cookies[flowCookie];
      reply.clearCookie(flowCookie, flowCookieOptions);
      const finished = await sso.finishSamlFlow(request.ctx, {
        connectionId: request.params.connection_id,
        samlResponse: request.body.SAMLResponse,
        relayState: request.body.RelayState,
        seed,
      });
      return land(request, reply, finished);
    },
  );

  app.get(
    OIDC_CALLBACK_PATH,
    { config: { permission: 'public' } },
    async function finishOidcSignIn(request, reply) {
      const query = request.query as Record<string, unknown>;
      const state = typeof query.state === 'string' ? query.state : undefined;
      const seed = request.cookies[flowCookie];
      reply.clearCookie(flowCookie, flowCookieOptions);
      const finished = await sso.finishFlow(request.ctx, {
        state,
        seed,
        callbackUrl: new URL(request.url, opts.publicUrl),
      });
      return land(request, reply, finished);
    },
  );
};
