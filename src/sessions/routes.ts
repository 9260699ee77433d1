// Routes of the sessions capability: the server-rendered sign-in, sign-out and setup pages
// (browser surface), and the caller's own profile and sessions (/v1).
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isGatehouseError } from '../core/errors.ts';
import { requireOrg, type TenancyService } from '../tenancy/index.ts';
import {
  renderContinueToSsoPage,
  renderLoginPage,
  renderSetupPage,
  renderSignedOutPage,
} from '../web/index.ts';
import type { Bootstrap } from './bootstrap.ts';
import { type CookieNames, sessionCookieOptions } from './cookies.ts';
import type { SessionsService, StartedSession } from './service.ts';

export interface SessionRouteOptions {
  readonly sessions: SessionsService;
  readonly bootstrap: Bootstrap;
  readonly tenancy: TenancyService;
  readonly cookies: CookieNames;
  readonly secureCookies: boolean;
  /**
   * Home-realm discovery (SPEC §3): the SSO connection an email's verified domain routes to.
   * Provided by the SSO capability through app.ts; sessions does not know SSO.
   */
  readonly discoverSsoConnection?: (ctx: FastifyRequest['ctx'], email: string) => Promise<string | undefined>;
}

const HOME = '/admin/';

/** Only same-origin paths: `/x` but not `//evil` or `/\evil`, so sign-in is no open redirect. */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && value.length <= 512
    ? value
    : HOME;
}

const LoginBody = Type.Object({
  email: Type.String({ maxLength: 320 }),
  // Empty or absent: the email step of home-realm discovery.
  password: Type.Optional(Type.String({ maxLength: 1024 })),
  csrf_token: Type.String(),
  return_to: Type.Optional(Type.String({ maxLength: 512 })),
});

const SetupBody = Type.Object({
  token: Type.String({ maxLength: 128 }),
  csrf_token: Type.String(),
  email: Type.String({ maxLength: 320 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  password: Type.String({ maxLength: 1024 }),
  org_name: Type.String({ minLength: 1, maxLength: 200 }),
  org_slug: Type.String({ maxLength: 40 }),
});

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(body);
}

/**
 * Sets the cookie of a session just started, ending any session this browser already had
 * (id rotation at sign-in). Every sign-in page uses it: password, setup, SSO.
 */
export async function establishBrowserSession(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: Pick<SessionRouteOptions, 'sessions' | 'cookies' | 'secureCookies'>,
  started: StartedSession,
): Promise<void> {
  const previous = request.cookies[deps.cookies.session];
  if (previous) await deps.sessions.endSessionByToken(request.ctx, previous);
  reply.setCookie(
    deps.cookies.session,
    started.token,
    sessionCookieOptions(deps.secureCookies, started.expiresAt),
  );
}

export const browserSessionRoutes: FastifyPluginAsync<SessionRouteOptions> = async (app, opts) => {
  const { sessions, bootstrap, cookies, secureCookies } = opts;

  const establish = (request: FastifyRequest, reply: FastifyReply, started: StartedSession) =>
    establishBrowserSession(request, reply, opts, started);

  app.get('/', { config: { permission: 'public' } }, async function home(request, reply) {
    return reply.redirect(request.auth ? HOME : '/login', 303);
  });

  app.get<{ Querystring: { return_to?: string } }>(
    '/login',
    {
      config: { permission: 'public' },
      schema: { querystring: Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 512 })) }) },
    },
    async function showLogin(request, reply) {
      if (request.auth) return reply.redirect(safeReturnTo(request.query.return_to), 303);
      const returnTo = request.query.return_to ? safeReturnTo(request.query.return_to) : undefined;
      return html(reply, 200, renderLoginPage({ csrfToken: request.csrfToken ?? '', returnTo }));
    },
  );

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/login',
    { config: { permission: 'public' }, schema: { body: LoginBody } },
    async function submitLogin(request, reply) {
      const { email, password, return_to } = request.body;
      if (!password) {
        const connectionId = await opts.discoverSsoConnection?.(request.ctx, email);
        if (connectionId) {
          const query = new URLSearchParams({ login_hint: email.trim() });
          if (return_to) query.set('return_to', safeReturnTo(return_to));
          return html(reply, 200, renderContinueToSsoPage(`/sso/${connectionId}/start?${query}`));
        }
        const page = renderLoginPage({
          csrfToken: request.csrfToken ?? '',
          email,
          notice: 'Enter your password.',
          returnTo: return_to && safeReturnTo(return_to),
        });
        return html(reply, 200, page);
      }
      try {
        const started = await sessions.signInWithPassword(request.ctx, { email, password });
        await establish(request, reply, started);
        return reply.redirect(safeReturnTo(return_to), 303);
      } catch (error) {
        if (!isGatehouseError(error) || error.status >= 500) throw error;
        if (error.headers) for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
        const page = renderLoginPage({
          csrfToken: request.csrfToken ?? '',
          email,
          error: error.message,
          returnTo: return_to && safeReturnTo(return_to),
        });
        return html(reply, error.status, page);
      }
    },
  );

  app.get('/logout', { config: { permission: 'public' } }, async function showLogout(request, reply) {
    return html(reply, 200, renderSignedOutPage(request.csrfToken ?? '', request.auth !== undefined));
  });

  app.post('/logout', { config: { permission: 'public' } }, async function submitLogout(request, reply) {
    const token = request.cookies[cookies.session];
    if (token) await sessions.endSessionByToken(request.ctx, token);
    reply.clearCookie(cookies.session, { path: '/', secure: secureCookies, httpOnly: true, sameSite: 'lax' });
    return reply.redirect('/login', 303);
  });

  app.get<{ Querystring: { token?: string } }>(
    '/setup',
    {
      config: { permission: 'public' },
      schema: { querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 128 })) }) },
    },
    async function showSetup(request, reply) {
      const token = request.query.token ?? '';
      if (!token || !(await bootstrap.isSetupTokenUsable(request.ctx, token))) {
        return html(
          reply,
          400,
          renderSetupPage({
            csrfToken: '',
            token: '',
            error: 'This setup link is not valid, has expired or was already used.',
          }),
        );
      }
      return html(reply, 200, renderSetupPage({ csrfToken: request.csrfToken ?? '', token }));
    },
  );

  app.post<{ Body: Static<typeof SetupBody> }>(
    '/setup',
    { config: { permission: 'public' }, schema: { body: SetupBody } },
    async function submitSetup(request, reply) {
      const b = request.body;
      try {
        const { userId } = await bootstrap.completeSetup(request.ctx, b.token, {
          email: b.email,
          name: b.name,
          password: b.password,
          orgName: b.org_name,
          orgSlug: b.org_slug,
        });
        await establish(request, reply, await sessions.startSession(request.ctx, userId, 'password'));
        return reply.redirect(HOME, 303);
      } catch (error) {
        if (!isGatehouseError(error) || error.status >= 500) throw error;
        const values = { email: b.email, name: b.name, org_name: b.org_name, org_slug: b.org_slug };
        return html(
          reply,
          error.status,
          renderSetupPage({
            csrfToken: request.csrfToken ?? '',
            token: b.token,
            error: error.message,
            values,
          }),
        );
      }
    },
  );
};

const SessionSchema = Type.Object({
  id: Type.String(),
  auth_method: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  last_seen_at: Type.String(),
  expires_at: Type.String(),
  current: Type.Boolean(),
});

const SessionIdParams = Type.Object({ session_id: Type.String({ pattern: '^ses_[0-9a-z]{26}$' }) });
const MemberParams = Type.Object({
  org: Type.String(),
  user_id: Type.String({ pattern: '^usr_[0-9a-z]{26}$' }),
});

const MeSchema = Type.Object({
  principal: Type.Object({ kind: Type.String(), id: Type.String(), auth_method: Type.String() }),
  user: Type.Union([
    Type.Object({
      id: Type.String(),
      email: Type.String(),
      name: Type.String(),
      status: Type.String(),
      created_at: Type.String(),
    }),
    Type.Null(),
  ]),
  orgs: Type.Array(
    Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String(), role: Type.String() }),
  ),
  csrf_token: Type.Optional(Type.String()),
});

export const v1SessionRoutes: FastifyPluginAsync<SessionRouteOptions> = async (app, opts) => {
  const { sessions, tenancy } = opts;

  async function describeMe(request: FastifyRequest): Promise<Static<typeof MeSchema>> {
    const principal = request.auth!.principal;
    const user =
      principal.kind === 'user' ? ((await tenancy.getUser(request.ctx, principal.id)) ?? null) : null;
    let orgs: { id: string; slug: string; name: string; role: string }[] = [];
    if (principal.kind === 'user') orgs = await tenancy.listOrgsOfUser(request.ctx, principal.id);
    else if (principal.orgRestriction !== undefined) {
      // A service account belongs to its one org, with the role it was given there.
      const access = await tenancy.resolveOrgAccess(request.ctx, principal, principal.orgRestriction);
      if (access) orgs = [{ ...access.org, role: access.role }];
    }
    if (principal.orgRestriction !== undefined) orgs = orgs.filter((o) => o.id === principal.orgRestriction);
    return {
      principal: { kind: principal.kind, id: principal.id, auth_method: principal.authMethod },
      user,
      orgs: orgs.map(({ id, slug, name, role }) => ({ id, slug, name, role })),
      ...(request.csrfToken ? { csrf_token: request.csrfToken } : {}),
    };
  }

  app.get(
    '/me',
    { config: { permission: 'profile:own' }, schema: { response: { 200: MeSchema } } },
    async function getMe(request) {
      return describeMe(request);
    },
  );

  app.patch<{ Body: { name: string } }>(
    '/me',
    {
      config: { permission: 'profile:write' },
      schema: {
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: MeSchema },
      },
    },
    async function updateMe(request) {
      await tenancy.updateProfile(request.ctx, request.auth!.principal.id, { name: request.body.name });
      return describeMe(request);
    },
  );

  app.get(
    '/me/sessions',
    {
      config: { permission: 'sessions:own' },
      schema: { response: { 200: Type.Object({ data: Type.Array(SessionSchema) }) } },
    },
    async function listMySessions(request) {
      return { data: await sessions.listOwnSessions(request.ctx) };
    },
  );

  app.delete<{ Params: Static<typeof SessionIdParams> }>(
    '/me/sessions/:session_id',
    { config: { permission: 'sessions:own' }, schema: { params: SessionIdParams } },
    async function revokeMySession(request, reply) {
      await sessions.revokeOwnSession(request.ctx, request.params.session_id);
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: Static<typeof MemberParams> }>(
    '/orgs/:org/members/:user_id/sessions',
    {
      config: { permission: 'sessions:all' },
      schema: { params: MemberParams, response: { 200: Type.Object({ revoked: Type.Integer() }) } },
    },
    async function revokeMemberSessions(request) {
      const { org } = requireOrg(request.orgAccess);
      return { revoked: await sessions.revokeMemberSessions(request.ctx, org.id, request.params.user_id) };
    },
  );
};
