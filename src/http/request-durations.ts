// The request-duration histogram of /metrics, recorded on every request. prom-client's
// Histogram validates and hashes its labels and allocates a closure on each observe; here
// each (method, route, status) gets its bucket counts once and a request only adds to them.
// The registry reads the counts at scrape time in prom-client's own metric shape.
import type { Registry } from 'prom-client';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
const NAME = 'gatehouse_http_request_duration_seconds';
const HELP = 'HTTP request duration by route and status';

interface Series {
  readonly labels: { method: string; route: string; status: string };
  /** Non-cumulative: counts[i] holds observations in (BUCKETS[i-1], BUCKETS[i]]; the last, above them all. */
  readonly counts: number[];
  sum: number;
}

export interface RequestDurations {
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function registerRequestDurations(registry: Registry): RequestDurations {
  const series = new Map<string, Series>();
  registry.registerMetric({
    name: NAME,
    help: HELP,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({
      name: NAME,
      help: HELP,
      type: 'histogram',
      aggregator: 'sum',
      values: [...series.values()].flatMap(({ labels, counts, sum }) => {
        let cumulative = 0;
        const buckets = BUCKETS.map((le, i) => {
          cumulative += counts[i]!;
          return { labels: { ...labels, le }, value: cumulative, metricName: `${NAME}_bucket` };
        });
        const count = cumulative + counts[BUCKETS.length]!;
        return [
          ...buckets,
          { labels: { ...labels, le: '+Inf' }, value: count, metricName: `${NAME}_bucket` },
          { labels, value: sum, metricName: `${NAME}_sum` },
          { labels, value: count, metricName: `${NAME}_count` },
        ];
      }),
    }),
    reset: () => series.clear(),
  } as unknown as Parameters<Registry['registerMetric']>[0]);

  return {
    observe(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let entry = series.get(key);
      if (!entry) {
        entry = {
          labels: { method, route, status: String(status) },
          counts: new Array(BUCKETS.length + 1).fill(0),
          sum: 0,
        };
        series.set(key, entry);
      }
      let i = 0;
      while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
      entry.counts[i]! += 1;
      entry.sum += seconds;
    },
  };
}
