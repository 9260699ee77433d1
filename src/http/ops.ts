// Operations endpoints (SPEC §8): /healthz (process up), /readyz (database reachable and
// migrations current), /metrics (Prometheus text format). Request durations are recorded by
// request-lifecycle.ts.
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

export interface Readiness {
  ping(): Promise<void>;
  pendingMigrations(): Promise<string[]>;
}

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  return registry;
}

/** A count a service keeps itself, exposed as a Prometheus counter read at scrape time. */
export interface ServiceCounter {
  readonly name: string;
  readonly help: string;
  read(): number;
}

export function registerServiceCounters(registry: Registry, counters: readonly ServiceCounter[]): void {
  for (const counter of counters) {
    new Counter({
      name: counter.name,
      help: counter.help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(counter.read());
      },
    });
  }
}

export function registerOpsRoutes(
  app: FastifyInstance,
  deps: { readiness: Readiness; registry: Registry },
): void {
  app.get('/healthz', { config: { permission: 'public' } }, async function healthz() {
    return { status: 'ok' };
  });

  app.get('/readyz', { config: { permission: 'public' } }, async function readyz(request, reply) {
    try {
      await deps.readiness.ping();
      const pending = await deps.readiness.pendingMigrations();
      if (pending.length > 0) return reply.status(503).send({ status: 'migrations_pending', pending });
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: { message: (error as Error).message } }, 'readiness check failed');
      return reply.status(503).send({ status: 'database_unavailable' });
    }
  });

  app.get('/metrics', { config: { permission: 'public' } }, async function metrics(_request, reply) {
    return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
}
