// Graceful-shutdown plumbing (SPEC §8): counts requests in flight so the database closes only
// after their handlers finish, and asks keep-alive clients to reconnect elsewhere once
// draining starts. request-lifecycle.ts calls begin/end from its hooks, the forward-auth fast
// path enter/leave.
export type InFlightTracker = ReturnType<typeof createInFlightTracker>;

// A request aborted by its client may still reach onResponse: it is counted down once. A
// flag on the request, not a WeakSet: the set's bookkeeping showed on every request's profile.
const counted = Symbol('counted in flight');
type Tracked = { [counted]?: boolean };

/**
 * Counts requests in flight, and once shutdown starts asks keep-alive clients (load
 * balancers) to reconnect elsewhere with `Connection: close` on every request that arrives
 * from then on, so closing does not wait for their idle sockets to time out.
 */
export function createInFlightTracker() {
  let inFlight = 0;
  let draining = false;
  const waiters: (() => void)[] = [];
  const leave = () => {
    inFlight -= 1;
    if (inFlight === 0) for (const wake of waiters.splice(0)) wake();
  };
  return {
    /**
     * `request` is any object standing for the request. True once draining has started: the
     * caller then answers with `Connection: close`.
     */
    begin(request: object): boolean {
      (request as Tracked)[counted] = true;
      inFlight += 1;
      return draining;
    },
    get draining(): boolean {
      return draining;
    },
    /** For a caller that ends each request it begins exactly once, without marking the request. */
    enter(): void {
      inFlight += 1;
    },
    leave,
    end(request: object): void {
      if (!(request as Tracked)[counted]) return;
      (request as Tracked)[counted] = false;
      leave();
    },
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
