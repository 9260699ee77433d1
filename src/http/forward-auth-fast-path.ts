// Forward auth below Fastify. `/v1/authz/check` sits in front of every request a proxy lets
// through, so it is answered straight from Node's request handler: the same resolver and
// the same decision as the Fastify route (decideCheck), the same request id, client address,
// duration histogram, in-flight count, error body and headers, without Fastify's routing,
// hooks, logger and serializer, which cost a well-behaved check about half its time
// (bench/README.md). Anything out of the ordinary — another method, a repeated or invalid
// query parameter, a shutdown in progress — is left to the Fastify route, which answers it
// (and its validation errors) as before.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fastifyCookie } from '@fastify/cookie';
import proxyAddr from '@fastify/proxy-addr';
import type { Authenticated, CredentialResolver } from '../authn/index.ts';
import { authnErrors } from '../authn/index.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/context.ts';
import { GatehouseError } from '../core/errors.ts';
import type { Ctx, Db } from '../db/index.ts';
import type { TenancyService } from '../tenancy/index.ts';
import { toGatehouseError } from './error-mapping.ts';
import {
  CHECK_METHODS,
  type CheckAnswer,
  type CheckInput,
  decideCheck,
  FORWARD_AUTH_PATH,
} from './forward-auth.ts';
import type { InFlightTracker } from './in-flight.ts';
import { requestIdFor } from './request-context.ts';
import type { RequestDurations } from './request-durations.ts';

const PATH = `/v1${FORWARD_AUTH_PATH}`;
const ROUTE = PATH;
const METHODS: ReadonlySet<string> = new Set(CHECK_METHODS);
const MAX_QUERY_VALUE = 64;
// The same as every /v1 answer (v1-surface.ts): never cached, never sniffed.
const API_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

export interface FastPathDeps {
  readonly resolver: CredentialResolver;
  readonly tenancy: TenancyService;
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly sessionCookie: string;
  readonly trustProxy: { readonly enabled: boolean; readonly addresses: readonly string[] };
  readonly durations: RequestDurations;
  readonly drain: InFlightTracker;
}

/** `?org=&permission=` as the route's schema allows them, or undefined to leave the request to Fastify. */
function parseQuery(search: string): { org?: string; permission?: string } | undefined {
  if (search === '') return {};
  const query: { org?: string; permission?: string } = {};
  for (const [name, value] of new URLSearchParams(search)) {
    if (name !== 'org' && name !== 'permission') continue;
    if (query[name] !== undefined || value.length < 1 || value.length > MAX_QUERY_VALUE) return undefined;
    query[name] = value;
  }
  return query;
}

/**
 * Returns the handler to run before Fastify's: true when it answered the request, false to
 * let Fastify have it.
 */
export function createForwardAuthFastPath(deps: FastPathDeps) {
  const trusted = deps.trustProxy.enabled ? proxyAddr.compile([...deps.trustProxy.addresses]) : undefined;

  function clientAddress(req: IncomingMessage): string {
    return trusted ? proxyAddr(req, trusted) : (req.socket.remoteAddress ?? '');
  }

  function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  function refuse(ctx: Ctx, res: ServerResponse, thrown: unknown): number {
    const { error, unexpected } = toGatehouseError(thrown);
    const log = {
      reqId: ctx.requestId,
      code: error.code,
      detail: error.detail,
      err: unexpected ? thrown : undefined,
    };
    if (unexpected || error.status >= 500) deps.log.error(log, 'request failed');
    else deps.log.info(log, 'request refused');
    const headers: Record<string, string> = {
      'x-request-id': ctx.requestId,
      ...API_HEADERS,
      ...(error.headers ?? {}),
    };
    if (error.status === 401) headers['www-authenticate'] = 'Bearer realm="gatehouse"';
    const body = {
      error: {
        code: error.code,
        message: error.message,
        ...(error.field ? { field: error.field } : {}),
        request_id: ctx.requestId,
      },
    };
    send(res, error.status, headers, JSON.stringify(body));
    return error.status;
  }

  function answer(ctx: Ctx, res: ServerResponse, checked: CheckAnswer): number {
    send(
      res,
      200,
      { 'x-request-id': ctx.requestId, ...API_HEADERS, ...checked.identity },
      JSON.stringify(checked.body),
    );
    return 200;
  }

  return function handleForwardAuth(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    if ((queryAt === -1 ? url : url.slice(0, queryAt)) !== PATH) return false;
    if (!METHODS.has(req.method ?? '') || deps.drain.draining) return false;
    const query = parseQuery(queryAt === -1 ? '' : url.slice(queryAt + 1));
    if (!query) return false;

    const startedAt = process.hrtime.bigint();
    const done = deps.drain.track();
    const userAgent = req.headers['user-agent'];
    const ctx: Ctx = {
      db: deps.db,
      clock: deps.clock,
      log: deps.log,
      requestId: requestIdFor(req.headers['x-request-id']),
      ip: clientAddress(req),
      userAgent: typeof userAgent === 'string' ? userAgent : undefined,
    };
    const finish = (status: number) => {
      deps.durations.observe(
        req.method ?? 'GET',
        ROUTE,
        status,
        Number(process.hrtime.bigint() - startedAt) / 1e9,
      );
      done();
    };
    const input: CheckInput = {
      method: req.method ?? 'GET',
      headers: req.headers,
      org: query.org,
      permission: query.permission,
    };
    const decide = (auth: Authenticated): CheckAnswer | Promise<CheckAnswer> => {
      if (!auth) throw new GatehouseError(authnErrors.authenticationRequired);
      return decideCheck({ ...ctx, principal: auth.principal }, auth, deps.tenancy, input);
    };
    let pending: Promise<CheckAnswer> | undefined;
    try {
      const cookieHeader = req.headers.cookie;
      const cookies = cookieHeader ? fastifyCookie.parse(cookieHeader) : {};
      const authenticated = deps.resolver.authenticate(ctx, {
        authorization: req.headers.authorization,
        cookies: { [deps.sessionCookie]: cookies[deps.sessionCookie] },
      });
      if (authenticated instanceof Promise) pending = authenticated.then(decide);
      else {
        const decided = decide(authenticated);
        if (decided instanceof Promise) pending = decided;
        else finish(answer(ctx, res, decided));
      }
    } catch (error) {
      finish(refuse(ctx, res, error));
    }
    pending?.then(
      (decided) => finish(answer(ctx, res, decided)),
      (error: unknown) => finish(refuse(ctx, res, error)),
    );
    return true;
  };
}

export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

interface ServerTimeouts {
  readonly keepAliveTimeout?: number;
  readonly requestTimeout?: number;
  readonly connectionTimeout?: number;
  readonly maxRequestsPerSocket?: number;
}

/**
 * Fastify's serverFactory: Node's server, offering each request to the fast path first. The
 * fast path is read when a request arrives (it is built after the Fastify instance). With a
 * serverFactory Fastify leaves the server's timeouts alone, so they are set here as Fastify
 * would set them.
 */
export function serverWithFastPath(fastPath: () => FastPath | undefined) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void, options: ServerTimeouts): Server => {
    const server = createServer((req, res) => {
      if (!fastPath()?.(req, res)) handler(req, res);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0)
      server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
