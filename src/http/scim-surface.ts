// The /scim/v2 surface (RFC 7644, SPEC §5): bodies in `application/scim+json` (or JSON),
// errors in the SCIM error schema with their scimType, and a SCIM token — the only credential
// accepted here — admitted to its own org when the route's permission allows. The org comes
// from the token, never from the URL.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authnErrors, type CredentialResolver } from '../authn/index.ts';
import type { OrgPermission } from '../authz/index.ts';
import type { Logger } from '../core/context.ts';
import { GatehouseError } from '../core/errors.ts';
import { SCIM_TYPES } from '../scim/index.ts';
import type { TenancyService } from '../tenancy/index.ts';
import { loggedError } from './error-mapping.ts';
import { httpErrors } from './errors.ts';
import { admitToOrg } from './guard.ts';
import { authenticateRequest } from './request-context.ts';
import { API_HEADERS } from './v1-surface.ts';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export interface ScimSurfaceDeps {
  readonly resolver: CredentialResolver;
  readonly tenancy: TenancyService;
}

/** A refusal as SCIM renders it (RFC 7644 §3.12): status as a string, scimType when it has one. */
export function scimErrorAnswer(thrown: unknown, log: Logger) {
  const error = loggedError(thrown, log);
  const scimType = SCIM_TYPES[error.code];
  return {
    status: error.status,
    headers:
      error.status === 401
        ? { 'www-authenticate': 'Bearer realm="gatehouse-scim"', ...error.headers }
        : { ...error.headers },
    body: {
      schemas: [ERROR_SCHEMA],
      status: String(error.status),
      ...(scimType ? { scimType } : {}),
      detail: error.field ? `${error.message} (${error.field})` : error.message,
    },
  };
}

function sendScimError(request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
  const answer = scimErrorAnswer(thrown, request.log);
  return reply.status(answer.status).headers(answer.headers).type(SCIM_CONTENT_TYPE).send(answer.body);
}

export async function registerScimSurface(
  app: FastifyInstance,
  deps: ScimSurfaceDeps,
  registerRoutes: (scope: FastifyInstance) => Promise<void>,
): Promise<void> {
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        reply.headers(API_HEADERS);
        await authenticateRequest(request, deps.resolver, 'scim');
        const auth = request.auth;
        if (!auth?.boundOrg)
          throw new GatehouseError(authnErrors.authenticationRequired, {
            message:
              'Send a SCIM token (gks_…) made by an admin of the organization as Authorization: Bearer.',
          });
        const permission = request.routeOptions.config.permission;
        // Every SCIM route names an org permission; anything else here is a wiring mistake.
        if (typeof permission !== 'string' || permission === 'public')
          throw new GatehouseError(httpErrors.routeNotFound);
        request.orgAccess = await admitToOrg(
          request.ctx,
          auth,
          deps.tenancy,
          auth.boundOrg.org.id,
          permission as OrgPermission,
        );
      });
      // SCIM clients send application/scim+json; some send plain JSON. Both parse as JSON, with
      // the library's protection against prototype poisoning.
      scope.addContentTypeParser(
        'application/scim+json',
        { parseAs: 'string' },
        scope.getDefaultJsonParser('error', 'error'),
      );
      scope.removeContentTypeParser('text/plain');
      scope.addHook('onSend', async (_request, reply, payload) => {
        if (String(reply.getHeader('content-type') ?? '').startsWith('application/json'))
          reply.type(SCIM_CONTENT_TYPE);
        return payload;
      });
      scope.setErrorHandler((error: FastifyError, request, reply) => sendScimError(request, reply, error));
      scope.setNotFoundHandler((request, reply) =>
        sendScimError(request, reply, new GatehouseError(httpErrors.routeNotFound)),
      );
      await registerRoutes(scope);
    },
    { prefix: '/scim/v2' },
  );
}
