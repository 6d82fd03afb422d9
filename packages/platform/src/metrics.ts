// Prometheus metrics (prom-client): one registry per process, shared by the services it runs.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status' | 'service'>;
  eventsConsumed: Counter<'service' | 'consumer' | 'type' | 'outcome'>;
  eventsPublished: Counter<'service'>;
  outboxBacklog: Gauge<'service'>;
}

let shared: Metrics | undefined;

/** The process-wide metrics (created once; every service in the process registers on it). */
export function processMetrics(): Metrics {
  if (shared) return shared;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  shared = {
    registry,
    httpDuration: new Histogram({
      name: 'samsyn_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status', 'service'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    eventsConsumed: new Counter({
      name: 'samsyn_events_consumed_total',
      help: 'Events handled by consumers, by outcome (applied, duplicate, ignored, retried, dead-lettered)',
      labelNames: ['service', 'consumer', 'type', 'outcome'],
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: 'samsyn_outbox_published_total',
      help: 'Events published from the outbox',
      labelNames: ['service'],
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'samsyn_outbox_backlog',
      help: 'Outbox rows not yet published',
      labelNames: ['service'],
      registers: [registry],
    }),
  };
  return shared;
}
