// The browser surface: server-rendered pages that work without JavaScript. HTML error
// pages, security headers, form CSRF on every POST, and the session (if any) resolved so
// pages know who is signed in. A stale cookie is treated as signed out, not as an error.
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CredentialResolver } from '../authn/index.ts';
import { GatehouseError } from '../core/errors.ts';
import { deriveCtx, isDatabaseUnavailable } from '../db/index.ts';
import type { TenancyService } from '../tenancy/index.ts';
import { renderErrorPage } from '../web/index.ts';
import { checkFormCsrf, type FormCsrf, isSafeMethod, issueFormCsrf } from './csrf.ts';
import { toGatehouseError } from './error-mapping.ts';
import { httpErrors } from './errors.ts';
import { enforcePermission } from './guard.ts';
import { carrierOf, setRetryHeaders } from './request-context.ts';

export interface BrowserSurfaceDeps {
  readonly resolver: CredentialResolver;
  readonly tenancy: TenancyService;
  readonly formCsrf: FormCsrf;
}

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

function sendHtmlError(request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
  const { error, unexpected } = toGatehouseError(thrown);
  if (unexpected || error.status >= 500)
    request.log.error({ code: error.code, err: unexpected ? thrown : undefined }, 'page failed');
  setRetryHeaders(reply, error.headers);
  return reply
    .status(error.status)
    .type('text/html; charset=utf-8')
    .send(renderErrorPage({ status: error.status, message: error.message, requestId: request.id }));
}

export async function registerBrowserSurface(
  app: FastifyInstance,
  deps: BrowserSurfaceDeps,
  registerRoutes: (scope: FastifyInstance) => Promise<void>,
): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit: 64 * 1024 });
    scope.addHook('onRequest', async (request, reply) => {
      try {
        request.auth = await deps.resolver.authenticate(request.ctx, carrierOf(request));
        if (request.auth) request.ctx = deriveCtx(request.ctx, { principal: request.auth.principal });
      } catch (error) {
        // A stale or forged cookie just means "signed out" here; an unreachable database does not.
        if (isDatabaseUnavailable(error)) throw error;
        request.auth = undefined;
      }
      request.csrfToken = issueFormCsrf(request, reply, deps.formCsrf);
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-frame-options', 'DENY');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      reply.header('cache-control', 'no-store');
      await enforcePermission(request, deps.tenancy);
    });
    scope.addHook('preHandler', async (request) => {
      if (!isSafeMethod(request.method) && request.routeOptions.config.csrf !== 'signed_cross_site_post')
        checkFormCsrf(request, deps.formCsrf);
    });
    scope.setErrorHandler((error: FastifyError, request, reply) => sendHtmlError(request, reply, error));
    scope.setNotFoundHandler((request, reply) =>
      sendHtmlError(request, reply, new GatehouseError(httpErrors.routeNotFound)),
    );
    await registerRoutes(scope);
  });
}
