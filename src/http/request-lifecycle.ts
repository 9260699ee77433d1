// What every request goes through before and after its surface: a request id (echoed in
// X-Request-Id), its ctx, the in-flight count for graceful shutdown, and its duration in
// /metrics. One onRequest and one onResponse hook, in callback style, because every request
// of every route pays for them (an async hook costs a promise each).
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../db/index.ts';
import { createInFlightTracker, type InFlightTracker } from './in-flight.ts';
import { attachContext } from './request-context.ts';
import { type RequestDurations, registerRequestDurations } from './request-durations.ts';

export interface RequestLifecycle {
  readonly drain: InFlightTracker;
  readonly durations: RequestDurations;
}

export function registerRequestLifecycle(
  app: FastifyInstance,
  deps: { db: Db; clock: Clock; registry: Registry },
): RequestLifecycle {
  const drain = createInFlightTracker();
  const durations = registerRequestDurations(deps.registry);
  app.addHook('onRequest', (request, reply, next) => {
    reply.header('x-request-id', request.id);
    attachContext(request, deps.db, deps.clock);
    if (drain.begin(request)) reply.header('connection', 'close');
    next();
  });
  app.addHook('onResponse', (request, reply, next) => {
    // The route pattern, not the URL, so label cardinality stays bounded.
    durations.observe(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    drain.end(request);
    next();
  });
  app.addHook('onRequestAbort', (request, next) => {
    drain.end(request);
    next();
  });
  return { drain, durations };
}
