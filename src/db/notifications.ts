// Cross-node notifications for cache invalidation (SPEC §8). PostgreSQL: NOTIFY inside the
// caller's transaction (delivered only if it commits) and one dedicated LISTEN connection per
// node that reconnects after losing the database. SQLite is a single node: handlers run in
// process. Consumers keep a short TTL as the floor, so a notification lost while the
// listener reconnects only delays an invalidation.

import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from '../core/context.ts';
import type { Ctx } from './context.ts';

export type NotificationHandler = (payload: string) => void;

export interface Notifications {
  /** Sends `payload` on `channel` to every node, this one included, when ctx's transaction commits. */
  publish(ctx: Ctx, channel: string, payload: string): Promise<void>;
  subscribe(channel: string, handler: NotificationHandler): () => void;
  close(): Promise<void>;
}

const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const RECONNECT_DELAY_MS = 1000;

function checkChannel(channel: string): void {
  if (!CHANNEL_PATTERN.test(channel)) throw new Error(`invalid notification channel ${channel}`);
}

function createHandlerRegistry() {
  const handlers = new Map<string, Set<NotificationHandler>>();
  return {
    handlers,
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
        if (client === next) client = undefined;
        next.end().catch(() => {});
        scheduleReconnect();
      });
      try {
        await next.connect();
        for (const channel of registry.handlers.keys()) await next.query(`listen "${channel}"`);
        client = next;
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
    },
    subscribe(channel, handler) {
      checkChannel(channel);
      if (registry.add(channel, handler)) {
        if (client) client.query(`listen "${channel}"`).catch(() => scheduleReconnect());
        else void connect();
      }
      return () => registry.remove(channel, handler);
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
