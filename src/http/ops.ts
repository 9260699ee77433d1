// Operations endpoints (SPEC §8): /healthz (process up), /readyz (database reachable and
// migrations current), /metrics (Prometheus text format). Request metrics are recorded for
// every route through one onResponse hook.
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export interface Readiness {
  ping(): Promise<void>;
  pendingMigrations(): Promise<string[]>;
}

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  return registry;
}

export function registerRequestMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, so label cardinality stays bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
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
