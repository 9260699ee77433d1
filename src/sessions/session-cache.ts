// Verified sessions, cached in process (shared/BENCHMARKS.md: a cache of verified
// credentials is mandatory) by the SHA-256 of the cookie. An entry lives until the session's
// absolute expiry, its idle deadline as this node last saw it, or the cache lifetime, and is
// dropped on every node when the session ends (sign-out, revocation, a role change or
// suspension of its user) through notifications on the `sessions` channel. Past its idle
// deadline an entry is only dropped, not refused: another node may have seen the session
// since, so the database decides.
import type { Principal } from '../core/context.ts';
import { TtlCache } from '../core/ttl-cache.ts';
import type { Ctx, Notifications } from '../db/index.ts';

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
  const { notifications, config } = deps;
  const cache = new TtlCache<CachedSession>({ maxEntries: config.enabled ? config.maxEntries : 0 });
  notifications.subscribe(CHANNEL, (tag) => cache.invalidateTag(tag));
  notifications.onGap(() => cache.clear());

  const usable = (ctx: Ctx) => !ctx.db.isTransaction && notifications.isLive();

  return {
    /** The cached session, if it is still within its idle deadline as far as this node knows. */
    get(ctx: Ctx, digest: string, now: number): CachedSession | undefined {
      if (!usable(ctx)) return undefined;
      const session = cache.get(digest, now);
      if (session && now >= session.lastSeenAt + session.idleTimeoutMs) {
        cache.invalidateTag(digest);
        return undefined;
      }
      return session;
    },
    ticket: () => cache.ticket(),
    remember(
      ctx: Ctx,
      digest: string,
      session: CachedSession,
      expiresAt: number,
      ticket: number,
      now: number,
    ) {
      if (!usable(ctx)) return;
      const until = Math.min(expiresAt, now + config.ttlMs);
      cache.set(
        digest,
        session,
        until,
        [digest, session.principal.id, session.principal.credentialId!],
        ticket,
        now,
      );
    },
    /** Drops cached sessions tagged with a user or session id, on every node once ctx commits. */
    async invalidate(ctx: Ctx, tag: string): Promise<void> {
      await notifications.publish(ctx, CHANNEL, tag);
    },
  };
}

export type SessionCache = ReturnType<typeof createSessionCache>;
