// Graceful-shutdown plumbing (SPEC §8): counts requests in flight so the database closes only
// after their handlers finish, and asks keep-alive clients to reconnect elsewhere once
// draining starts.
import type { FastifyInstance } from 'fastify';

export type InFlightTracker = ReturnType<typeof trackInFlight>;

/**
 * Counts requests in flight, and once shutdown starts asks keep-alive clients (load
 * balancers) to reconnect elsewhere with `Connection: close` on every request that arrives
 * from then on, so closing does not wait for their idle sockets to time out.
 */
export function trackInFlight(app: FastifyInstance) {
  let inFlight = 0;
  let draining = false;
  const waiters: (() => void)[] = [];
  // A request aborted by its client may still reach onResponse: count it down once. A flag
  // on the request, not a WeakSet: the set's bookkeeping showed on every request's profile.
  const counted = Symbol('counted in flight');
  type Tracked = { [counted]?: boolean };
  const done = (request: Tracked) => {
    if (!request[counted]) return;
    request[counted] = false;
    inFlight -= 1;
    if (inFlight === 0) for (const wake of waiters.splice(0)) wake();
  };
  // Callback-style hooks: every request runs them, and an async hook costs a promise each.
  app.addHook('onRequest', (request, reply, next) => {
    (request as Tracked)[counted] = true;
    inFlight += 1;
    if (draining) reply.header('connection', 'close');
    next();
  });
  app.addHook('onResponse', (request, _reply, next) => {
    done(request as Tracked);
    next();
  });
  app.addHook('onRequestAbort', (request, next) => {
    done(request as Tracked);
    next();
  });
  return {
    start: () => {
      draining = true;
    },
    settled: (timeoutMs: number) =>
      inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            timer.unref();
            waiters.push(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
  };
}
