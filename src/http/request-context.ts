// Request ids, the per-request ctx, and credential extraction: plumbing shared by every
// surface.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  Authenticated,
  CredentialCarrier,
  CredentialResolver,
  ResourceSurface,
} from '../authn/index.ts';
import type { Clock } from '../core/clock.ts';
import { newRequestId } from '../core/ids.ts';
import { type Db, deriveCtx } from '../db/index.ts';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,64}$/;

/** Keeps a well-formed incoming X-Request-Id (so a proxy's id follows the request), else makes one. */
export function requestIdFor(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID_PATTERN.test(value) ? value : newRequestId();
}

export function carrierOf(request: FastifyRequest, surface: ResourceSurface = 'api'): CredentialCarrier {
  return { authorization: request.headers.authorization, cookies: request.cookies ?? {}, surface };
}

export function attachContext(request: FastifyRequest, db: Db, clock: Clock): void {
  const userAgent = request.headers['user-agent'];
  request.ctx = {
    db,
    clock,
    log: request.log,
    requestId: request.id,
    ip: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent : undefined,
  };
}

function record(request: FastifyRequest, auth: Authenticated): void {
  request.auth = auth;
  if (auth) request.ctx = deriveCtx(request.ctx, { principal: auth.principal });
}

/**
 * Runs the one resolver and records who the caller is on the request and in its ctx;
 * returns a promise only when the resolver had to wait (for the database).
 */
export function authenticateRequest(
  request: FastifyRequest,
  resolver: CredentialResolver,
  surface: ResourceSurface = 'api',
): undefined | Promise<void> {
  const answer = resolver.authenticate(request.ctx, carrierOf(request, surface));
  if (!(answer instanceof Promise)) {
    record(request, answer);
    return undefined;
  }
  return answer.then((auth) => record(request, auth));
}

export function setRetryHeaders(reply: FastifyReply, headers: Record<string, string> | undefined): void {
  if (headers) for (const [name, value] of Object.entries(headers)) reply.header(name, value);
}
