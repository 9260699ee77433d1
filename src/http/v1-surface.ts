// The /v1 JSON surface: JSON errors `{"error":{code,message,field,request_id}}`, the
// credential resolver, CSRF for cookie-authenticated unsafe requests, and the permission
// guard before every handler.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CredentialResolver } from '../authn/index.ts';
import type { Logger } from '../core/context.ts';
import { GatehouseError } from '../core/errors.ts';
import type { TenancyService } from '../tenancy/index.ts';
import { checkSessionCsrf, isSafeMethod, sessionCsrfToken } from './csrf.ts';
import { loggedError } from './error-mapping.ts';
import { httpErrors } from './errors.ts';
import { enforcePermission } from './guard.ts';
import { authenticateRequest } from './request-context.ts';

export interface V1SurfaceDeps {
  readonly resolver: CredentialResolver;
  readonly tenancy: TenancyService;
  readonly csrfKey: Buffer;
}

/** What every /v1 answer carries: identities and secrets shown once are never cached, never sniffed. */
export const API_HEADERS = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
});

/** A refusal as /v1 renders it: `{"error":{code,message,field,request_id}}`, status and headers. */
export interface JsonErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { error: { code: string; message: string; field?: string; request_id: string } };
}

/** Renders what was thrown and logs it (refusals at info, failures at error, with the cause). */
export function jsonErrorAnswer(thrown: unknown, requestId: string, log: Logger): JsonErrorAnswer {
  const error = loggedError(thrown, log);
  // The challenge first, then the error's own headers: a spread followed by more properties
  // gets a new hidden class on every call (deriveCtx in db/context.ts), and floods are 401s.
  const headers: Record<string, string> =
    error.status === 401
      ? { 'www-authenticate': 'Bearer realm="gatehouse"', ...error.headers }
      : { ...error.headers };
  // Two literals rather than a conditional spread between properties: the same hidden-class
  // trap as above.
  const { code, message, field } = error;
  const body = field
    ? { code, message, field, request_id: requestId }
    : { code, message, request_id: requestId };
  return { status: error.status, headers, body: { error: body } };
}

export function sendJsonError(request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
  const answer = jsonErrorAnswer(thrown, request.id, request.log);
  return reply.status(answer.status).headers(answer.headers).send(answer.body);
}

export async function registerV1Surface(
  app: FastifyInstance,
  deps: V1SurfaceDeps,
  registerRoutes: (scope: FastifyInstance) => Promise<void>,
): Promise<void> {
  await app.register(
    async (scope) => {
      // Callback style, and synchronous to the end when the credential was cached and the
      // route needs no role lookup: this hook runs on every /v1 request.
      scope.addHook('onRequest', (request, reply, next) => {
        // API answers carry identities and secrets shown once: never cached, never sniffed.
        reply.headers(API_HEADERS);
        const guard = () => {
          if (request.auth?.transport === 'cookie') {
            const expected = sessionCsrfToken(deps.csrfKey, request.auth.credential);
            request.csrfToken = expected;
            if (!isSafeMethod(request.method) && request.routeOptions.config.csrf !== 'not_a_state_change')
              checkSessionCsrf(request, expected);
          }
          return enforcePermission(request, deps.tenancy);
        };
        let pending: undefined | Promise<void>;
        try {
          const authenticating = authenticateRequest(request, deps.resolver);
          pending = authenticating ? authenticating.then(guard) : guard();
        } catch (error) {
          next(error as Error);
          return;
        }
        if (pending) pending.then(() => next(), next);
        else next();
      });
      // /v1 speaks JSON only; a text/plain body (what a cross-site form can send) is refused with 415.
      scope.removeContentTypeParser('text/plain');
      scope.setErrorHandler((error: FastifyError, request, reply) => sendJsonError(request, reply, error));
      scope.setNotFoundHandler((request, reply) =>
        sendJsonError(request, reply, new GatehouseError(httpErrors.routeNotFound)),
      );
      await registerRoutes(scope);
    },
    { prefix: '/v1' },
  );
}
