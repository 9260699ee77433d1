// Verified sessions, cached in process (shared/BENCHMARKS.md: a cache of verified
// credentials is mandatory) by the SHA-256 of the cookie. An entry lives until the session's
// absolute expiry, its idle deadline as this node last saw it, or the cache lifetime, and is
// dropped on every node when the session ends (sign-out, revocation, a role change or
// suspension of its user) through notifications on the `sessions` channel. Past its idle
// deadline an entry is only dropped, not refused: another node may have seen the session
// since, so the database decides.
import type { Principal } from '../core/context.ts';
import { type Ctx, createSharedCache, type Notifications } from '../db/index.ts';

const CHANNEL = 'sessions';

export interface SessionCacheConfig {
  readonly enabled: boolean;
  readonly ttlMs: number;
  readonly maxEntries: number;
}

export interface CachedSession {
  readonly principal: Principal;
  /** When this node last recorded the session as seen; moves forward on each touch. */
  lastSeenAt: number;
  readonly idleTimeoutMs: number;
}

export function createSessionCache(deps: { notifications: Notifications; config: SessionCacheConfig }) {
  const { config } = deps;
  const cache = createSharedCache<CachedSession>(deps.notifications, CHANNEL, {
    maxEntries: config.enabled ? config.maxEntries : 0,
  });

  return {
    /** The cached session, if it is still within its idle deadline as far as this node knows. */
    get(ctx: Ctx, digest: string, now: number): CachedSession | undefined {
      const session = cache.get(ctx, digest, now);
      if (session && now >= session.lastSeenAt + session.idleTimeoutMs) {
        cache.forget(digest);
        return undefined;
      }
      return session;
    },
    ticket: cache.ticket,
    remember(
      ctx: Ctx,
      digest: string,
      session: CachedSession,
      expiresAt: number,
      ticket: number,
      now: number,
    ) {
      const until = Math.min(expiresAt, now + config.ttlMs);
      const tags = [digest, session.principal.id, session.principal.credentialId!];
      cache.set(ctx, digest, session, until, tags, ticket, now);
    },
    /** Drops cached sessions tagged with a user or session id, on every node once ctx commits. */
    invalidate: cache.invalidate,
  };
}

export type SessionCache = ReturnType<typeof createSessionCache>;
