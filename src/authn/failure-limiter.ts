// Per-address limit on failed authentications (SPEC §2, issue: failures are rate-limited
// per client address): a fixed window per address, held in memory on each node, bounded in
// size. An address over the limit gets 429 with Retry-After for every credential it sends
// until its window ends, before any credential is looked at, so a flood of guesses costs
// the database nothing. Behind a reverse proxy, set GATEHOUSE_TRUST_PROXY so the address is
// the client's and not the proxy's.
import { type ErrorDefinition, GatehouseError } from '../core/errors.ts';
import { authnErrors } from './errors.ts';

export interface FailureLimitConfig {
  readonly enabled: boolean;
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Addresses tracked at once; the oldest windows are forgotten first. */
  readonly maxAddresses: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

export interface FailureLimiter {
  /** Throws 429 while `address` is over its limit. */
  check(address: string | undefined, now: number): void;
  /** The 429 while `address` is over its limit, returned rather than thrown (a flood's hot path). */
  refusal(address: string | undefined, now: number): GatehouseError | undefined;
  recordFailure(address: string | undefined, now: number): void;
}

/**
 * `refusal` is the 429 answered over the limit; other capabilities reuse the limiter for
 * other per-address events (SSO sign-in starts) with their own code.
 */
export function createFailureLimiter(
  config: FailureLimitConfig,
  refusal: ErrorDefinition = authnErrors.tooManyFailures,
): FailureLimiter {
  const windows = new Map<string, Window>();

  function current(address: string, now: number): Window | undefined {
    const window = windows.get(address);
    if (window && now - window.startedAt >= config.windowMs) {
      windows.delete(address);
      return undefined;
    }
    return window;
  }

  function overLimit(address: string | undefined, now: number): GatehouseError | undefined {
    if (!config.enabled || address === undefined || windows.size === 0) return undefined;
    const window = current(address, now);
    if (!window || window.failures < config.maxFailures) return undefined;
    const retryAfter = Math.max(1, Math.ceil((window.startedAt + config.windowMs - now) / 1000));
    return new GatehouseError(refusal, {
      headers: { 'retry-after': String(retryAfter) },
      detail: `address over ${config.maxFailures} per ${config.windowMs / 1000} s`,
    });
  }

  return {
    check(address, now) {
      const refused = overLimit(address, now);
      if (refused) throw refused;
    },
    refusal: overLimit,
    recordFailure(address, now) {
      if (!config.enabled || address === undefined) return;
      const window = current(address, now);
      if (window) {
        window.failures += 1;
        return;
      }
      if (windows.size >= config.maxAddresses) windows.delete(windows.keys().next().value as string);
      windows.set(address, { startedAt: now, failures: 1 });
    },
  };
}
