// An in-process cache whose entries every node drops when a notification names them: the
// one mechanism behind the verified-key, verified-session and member-role caches. A change
// publishes a tag (a key, session, user, service-account or org id) in its transaction; each
// node drops the entries filed under it. Entries are trusted only while this node's listener
// is live and never inside a transaction (which must see what is really there), and all of
// them go when the listener was lost or is back, since notifications sent in between never
// arrive (notifications.ts).
import { TtlCache } from '../core/ttl-cache.ts';
import type { Ctx } from './context.ts';
import type { Notifications } from './notifications.ts';

export interface SharedCache<V> {
  get(ctx: Ctx, key: string, now: number): V | undefined;
  /** Taken before reading what will be stored; see TtlCache. */
  ticket(): number;
  set(
    ctx: Ctx,
    key: string,
    value: V,
    expiresAt: number,
    tags: readonly string[],
    ticket: number,
    now: number,
  ): void;
  /** Drops entries filed under `tag` on this node only. */
  forget(tag: string): void;
  /** Drops entries filed under `tag` on this node at once and on every node once ctx commits. */
  invalidate(ctx: Ctx, tag: string): Promise<void>;
}

export function createSharedCache<V>(
  notifications: Notifications,
  channel: string,
  options: { readonly maxEntries: number },
): SharedCache<V> {
  const cache = new TtlCache<V>(options);
  notifications.subscribe(channel, (tag) => cache.invalidateTag(tag));
  notifications.onGap(() => cache.clear());
  const usable = (ctx: Ctx) => !ctx.db.isTransaction && notifications.isLive();
  return {
    get: (ctx, key, now) => (usable(ctx) ? cache.get(key, now) : undefined),
    ticket: () => cache.ticket(),
    set(ctx, key, value, expiresAt, tags, ticket, now) {
      if (usable(ctx)) cache.set(key, value, expiresAt, tags, ticket, now);
    },
    forget: (tag) => cache.invalidateTag(tag),
    invalidate: (ctx, tag) => notifications.publish(ctx, channel, tag),
  };
}
