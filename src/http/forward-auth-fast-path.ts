// Forward auth on the HTTP server's own request handler, ahead of Fastify. `/v1/authz/check`
// is called before every request a reverse proxy passes upstream, so its answer has to cost
// little more than a hello-world response; Fastify's routing, hooks and reply machinery
// cost about as much as the check itself, ~5 µs of it (bench/README.md). The fast path serves the common shape
// of the request — `GET /v1/authz/check` with an Authorization header and nothing else to
// interpret — with the same resolver, the same decision (decideCheck), the same headers and
// body and the same error rendering as the route in forward-auth.ts; anything else (a query
// string, cookies, another method, a shutdown in progress) goes to the route. It is off when
// info logging is on, because Fastify's per-request lines would then be missing for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import type { Authenticated, CredentialResolver } from '../authn/index.ts';
import type { Clock } from '../core/clock.ts';
import type { Principal } from '../core/context.ts';
import { GatehouseError } from '../core/errors.ts';
import type { Ctx, Db } from '../db/index.ts';
import type { OrgAccess, TenancyService } from '../tenancy/index.ts';
import {
  CHECK_PATH,
  type CheckVerdict,
  checkBody,
  checksWrite,
  decideCheck,
  identityHeaders,
} from './forward-auth.ts';
import { admitToSelfRoute } from './guard.ts';
import type { InFlightTracker } from './in-flight.ts';
import { requestIdFor } from './request-context.ts';
import type { RequestDurations } from './request-durations.ts';
import { requestLoggerFactory } from './request-logging.ts';
import { API_HEADERS, jsonErrorAnswer } from './v1-surface.ts';

/** Answers the request and returns true, or returns false and leaves it untouched for Fastify. */
export type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

type Verdict = CheckVerdict | GatehouseError | Promise<CheckVerdict | GatehouseError>;

export interface ForwardAuthFastPath {
  readonly handle: FastPath;
  /** Checks answered here since start (for /metrics, and for tests to see it was taken). */
  answered(): number;
}

export interface ForwardAuthFastPathDeps {
  readonly resolver: CredentialResolver;
  readonly tenancy: TenancyService;
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly drain: InFlightTracker;
  readonly durations: RequestDurations;
  /** The proxies whose X-Forwarded-For is believed, as Fastify is given them; false for none. */
  readonly trustProxy: false | readonly string[];
}

const JSON_TYPE = 'application/json; charset=utf-8';
const NO_COOKIES: Readonly<Record<string, string | undefined>> = Object.freeze({});
const API_HEADER_LIST: readonly string[] = Object.entries(API_HEADERS).flat();

/** A 200 answer rendered for one principal with one org access (or none). */
interface RenderedAllow {
  readonly access: OrgAccess | undefined;
  readonly headers: readonly string[];
  readonly body: string;
}

/** Whether two accesses render alike: the same org (id, slug) and role, or both none. */
function sameAccess(a: OrgAccess | undefined, b: OrgAccess | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.role === b.role && a.org.id === b.org.id && a.org.slug === b.org.slug;
}

/** The client's address exactly as Fastify's request.ip computes it with the same trustProxy. */
function clientAddressOf(
  trustProxy: false | readonly string[],
): (request: IncomingMessage) => string | undefined {
  if (trustProxy === false) return (request) => request.socket.remoteAddress;
  const trusted = proxyAddr.compile([...trustProxy]);
  return (request) => {
    const chain = proxyAddr.all(request, trusted);
    return chain[chain.length - 1];
  };
}

export function createForwardAuthFastPath(deps: ForwardAuthFastPathDeps): ForwardAuthFastPath {
  const { resolver, tenancy, db, clock, logger, drain, durations } = deps;
  let answered = 0;
  if (logger.isLevelEnabled('info')) return { handle: () => false, answered: () => answered };
  const clientAddress = clientAddressOf(deps.trustProxy);

  function decide(ctx: Ctx, auth: Authenticated, writes: boolean): CheckVerdict | Promise<CheckVerdict> {
    return decideCheck(ctx, admitToSelfRoute(auth, 'authz:check'), tenancy, { writes });
  }

  // No closure made per request here: under tsx each named one is given its name through
  // defineProperty (esbuild's keepNames), which showed in the check's CPU profile. A refused
  // credential comes back as a value, not a throw (CredentialResolver.attempt).
  function verdictFor(ctx: Ctx, request: IncomingMessage): Verdict {
    const writes = checksWrite(request.method as string, request.headers);
    const auth = resolver.attempt(ctx, {
      authorization: request.headers.authorization,
      cookies: NO_COOKIES,
      surface: 'api',
    });
    if (auth instanceof GatehouseError) return auth;
    return auth instanceof Promise
      ? auth.then((found) => (found instanceof GatehouseError ? found : decide(ctx, found, writes)))
      : decide(ctx, auth, writes);
  }

  // Headers as the flat [name, value, …] list writeHead takes: an object assembled from
  // spreads went through V8's slow literal path and then changed shape twice in write().
  type Answer = readonly [status: number, headers: string[], body: string];

  /** Everything of an answer but its x-request-id, content type and length included. */
  function headersOf(extra: Readonly<Record<string, string>>, body: string): string[] {
    const headers = [...API_HEADER_LIST];
    for (const name in extra) headers.push(name, extra[name] as string);
    headers.push('content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(body)));
    return headers;
  }

  function withRequestId(ctx: Ctx, status: number, headers: readonly string[], body: string): Answer {
    return [status, ['x-request-id', ctx.requestId, ...headers], body];
  }

  // A cached credential hands over the same principal on every request, and the 200 answer
  // is made of the principal and the org access alone: it is rendered once per principal and
  // access, not per request (the body's JSON, the identity headers and their validation
  // were a tenth of a cache-warm check's CPU). Weakly held: it goes with the cache entry.
  const rendered = new WeakMap<Principal, RenderedAllow>();

  function allowed(ctx: Ctx, verdict: CheckVerdict): Answer {
    let answer = rendered.get(verdict.principal);
    if (answer === undefined || !sameAccess(answer.access, verdict.access)) {
      const body = JSON.stringify(checkBody(verdict));
      answer = { access: verdict.access, headers: headersOf(identityHeaders(verdict), body), body };
      rendered.set(verdict.principal, answer);
    }
    return withRequestId(ctx, 200, answer.headers, answer.body);
  }

  function answerFor(ctx: Ctx, verdict: CheckVerdict | GatehouseError): Answer {
    return verdict instanceof GatehouseError ? refused(ctx, verdict) : allowed(ctx, verdict);
  }

  function refused(ctx: Ctx, thrown: unknown): Answer {
    const answer = jsonErrorAnswer(thrown, ctx.requestId, ctx.log as FastifyBaseLogger);
    const body = JSON.stringify(answer.body);
    return withRequestId(ctx, answer.status, headersOf(answer.headers, body), body);
  }

  function write(response: ServerResponse, [status, headers, body]: Answer): number {
    response.writeHead(status, headers);
    response.end(body);
    return status;
  }

  /** Writes the answer and ends the request's bookkeeping, once, whatever happens. */
  function finish(ctx: Ctx, response: ServerResponse, started: number, answer: () => Answer): void {
    let status: number;
    try {
      status = write(response, answer());
    } catch (error) {
      // Composing or writing the answer failed: a logged 500 if nothing was sent yet.
      try {
        if (response.headersSent) throw error;
        status = write(response, refused(ctx, error));
      } catch {
        response.destroy();
        status = 500;
      }
    }
    answered += 1;
    drain.leave();
    durations.observe('GET', CHECK_PATH, status, (performance.now() - started) / 1000);
  }

  const handle: FastPath = (request, response) => {
    if (
      request.method !== 'GET' ||
      request.url !== CHECK_PATH ||
      request.headers.authorization === undefined ||
      request.headers.cookie !== undefined ||
      drain.draining
    )
      return false;
    const started = performance.now();
    const requestId = requestIdFor(request.headers['x-request-id']);
    const userAgent = request.headers['user-agent'];
    const ctx: Ctx = {
      db,
      clock,
      // The same request logger and binding Fastify gives its requests.
      log: requestLoggerFactory(logger, { reqId: requestId }),
      requestId,
      ip: clientAddress(request),
      userAgent,
    };
    drain.enter();
    let verdict: Verdict;
    try {
      verdict = verdictFor(ctx, request);
    } catch (error) {
      finish(ctx, response, started, () => refused(ctx, error));
      return true;
    }
    if (verdict instanceof Promise)
      verdict.then(
        (found) => finish(ctx, response, started, () => answerFor(ctx, found)),
        (error: unknown) => finish(ctx, response, started, () => refused(ctx, error)),
      );
    else finish(ctx, response, started, () => answerFor(ctx, verdict));
    return true;
  };
  return { handle, answered: () => answered };
}
