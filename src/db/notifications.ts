// Cross-node notifications for cache invalidation (SPEC §8). PostgreSQL: NOTIFY inside the
// caller's transaction (delivered only if it commits) and one dedicated LISTEN connection per
// node that reconnects after losing the database. SQLite is a single node: handlers run in
// process. A cache that relies on these notifications trusts its entries only while
// isLive() is true, and drops them all when told of a gap (the listener was lost or is back),
// since notifications sent in between never arrive.

import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../core/context.ts';
import type { Ctx } from './context.ts';

export type NotificationHandler = (payload: string) => void;

export interface Notifications {
  /**
   * Sends `payload` on `channel`: to this node at once, and to every node (this one again)
   * when ctx's transaction commits. Handlers must be idempotent invalidations.
   */
  publish(ctx: Ctx, channel: string, payload: string): Promise<void>;
  subscribe(channel: string, handler: NotificationHandler): () => void;
  /** True while this node is sure to receive every notification sent from now on. */
  isLive(): boolean;
  /** Called when notifications may have been missed: the listener was lost, or reconnected. */
  onGap(handler: () => void): void;
  close(): Promise<void>;
}

const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const RECONNECT_DELAY_MS = 1000;

function checkChannel(channel: string): void {
  if (!CHANNEL_PATTERN.test(channel)) throw new Error(`invalid notification channel ${channel}`);
}

function createHandlerRegistry() {
  const handlers = new Map<string, Set<NotificationHandler>>();
  const gapHandlers: (() => void)[] = [];
  return {
    handlers,
    gapHandlers,
    gap(log: Logger): void {
      for (const handler of gapHandlers) {
        try {
          handler();
        } catch (error) {
          log.error({ err: error }, 'notification gap handler failed');
        }
      }
    },
    add(channel: string, handler: NotificationHandler): boolean {
      const set = handlers.get(channel) ?? new Set();
      const isNew = set.size === 0;
      set.add(handler);
      handlers.set(channel, set);
      return isNew;
    },
    remove(channel: string, handler: NotificationHandler): void {
      handlers.get(channel)?.delete(handler);
    },
    dispatch(channel: string, payload: string, log: Logger): void {
      for (const handler of handlers.get(channel) ?? []) {
        try {
          handler(payload);
        } catch (error) {
          log.error({ err: error, channel }, 'notification handler failed');
        }
      }
    },
  };
}

export function createLocalNotifications(log: Logger): Notifications {
  const registry = createHandlerRegistry();
  return {
    async publish(_ctx, channel, payload) {
      checkChannel(channel);
      registry.dispatch(channel, payload, log);
    },
    subscribe(channel, handler) {
      checkChannel(channel);
      registry.add(channel, handler);
      return () => registry.remove(channel, handler);
    },
    isLive: () => true,
    onGap: (handler) => {
      registry.gapHandlers.push(handler);
    },
    close: async () => {},
  };
}

export function createPostgresNotifications(url: string, log: Logger): Notifications {
  const registry = createHandlerRegistry();
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | undefined;

  function scheduleReconnect(): void {
    if (closed || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, RECONNECT_DELAY_MS);
    reconnectTimer.unref();
  }

  function connect(): Promise<void> {
    connecting ??= (async () => {
      const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      next.on('notification', (message) => registry.dispatch(message.channel, message.payload ?? '', log));
      next.on('error', (error) => {
        log.warn(
          { err: { message: error.message } },
          'notification listener lost the database; reconnecting',
        );
        if (client === next) {
          client = undefined;
          registry.gap(log);
        }
        next.end().catch(() => {});
        scheduleReconnect();
      });
      try {
        await next.connect();
        for (const channel of registry.handlers.keys()) await next.query(`listen "${channel}"`);
        client = next;
        // Whatever was cached while no listener ran may have missed an invalidation.
        registry.gap(log);
      } catch (error) {
        log.warn(
          { err: { message: (error as Error).message } },
          'notification listener cannot connect; retrying',
        );
        next.end().catch(() => {});
        scheduleReconnect();
      } finally {
        connecting = undefined;
      }
    })();
    return connecting;
  }

  return {
    async publish(ctx, channel, payload) {
      checkChannel(channel);
      await sql`select pg_notify(${channel}, ${payload})`.execute(ctx.db);
      // This node acts at once too, so it reads its own writes. A read on another pooled
      // connection that saw the old row can still cache it before the commit; the echo of
      // the NOTIFY, delivered to this node's listener after the commit, drops that too.
      registry.dispatch(channel, payload, log);
    },
    subscribe(channel, handler) {
      checkChannel(channel);
      if (registry.add(channel, handler)) {
        if (client) client.query(`listen "${channel}"`).catch(() => scheduleReconnect());
        else void connect();
      }
      return () => registry.remove(channel, handler);
    },
    isLive: () => client !== undefined,
    onGap: (handler) => {
      registry.gapHandlers.push(handler);
    },
    async close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      await connecting;
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}
