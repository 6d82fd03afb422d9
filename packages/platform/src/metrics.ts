// Prometheus metrics (prom-client): one registry per process, shared by the services it runs.
import type { Bus } from '@samsyn/bus';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status' | 'service'>;
  eventsConsumed: Counter<'service' | 'consumer' | 'type' | 'outcome'>;
  eventsPublished: Counter<'service'>;
  outboxBacklog: Gauge<'service'>;
  /** Messages a durable consumer has not been delivered yet (its lag), read from NATS at scrape time. */
  consumerPending: Gauge<'service' | 'stream' | 'consumer'>;
  /** Delivered, not yet acknowledged (in flight or waiting for a retry). */
  consumerAckPending: Gauge<'service' | 'stream' | 'consumer'>;
  /** Messages in the dead-letter stream, read from NATS at scrape time. */
  deadLetters: Gauge<'service'>;
  /** Notifications that could not be delivered (e-mail, rest-hook, push to a record system), by channel. */
  notificationFailures: Counter<'service' | 'channel' | 'reason'>;
}

/** Buses whose consumers and dead-letter stream the scrape reports, with the service that owns each. */
const watched = new Map<Bus, string>();

/** Reports this connection's consumer lag and the dead-letter count on /metrics (see processMetrics). */
export function watchBus(bus: Bus, service: string): void {
  watched.set(bus, service);
}

/** Stops reporting a connection (before it closes). */
export function unwatchBus(bus: Bus): void {
  watched.delete(bus);
}

async function collectLag(gauge: Gauge<'service' | 'stream' | 'consumer'>, field: 'pending' | 'ackPending') {
  gauge.reset();
  for (const [bus, service] of watched) {
    if (bus.nc.isClosed()) continue;
    try {
      for (const lag of await bus.consumerLag())
        gauge.set({ service, stream: lag.stream, consumer: lag.durable }, lag[field]);
    } catch {
      // NATS away: report nothing rather than a stale number; the NATS alerts say why.
    }
  }
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
    consumerPending: new Gauge({
      name: 'samsyn_consumer_pending_messages',
      help: 'Messages in the stream not yet delivered to the durable consumer (consumer lag)',
      labelNames: ['service', 'stream', 'consumer'],
      registers: [registry],
      async collect() {
        await collectLag(this, 'pending');
      },
    }),
    consumerAckPending: new Gauge({
      name: 'samsyn_consumer_ack_pending_messages',
      help: 'Messages delivered to the durable consumer and not yet acknowledged',
      labelNames: ['service', 'stream', 'consumer'],
      registers: [registry],
      async collect() {
        await collectLag(this, 'ackPending');
      },
    }),
    deadLetters: new Gauge({
      name: 'samsyn_dead_letter_messages',
      help: 'Messages in the dead-letter stream (samsyn.dlq.>), each with its reason',
      labelNames: ['service'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [bus, service] of watched) {
          if (bus.nc.isClosed()) continue;
          try {
            this.set({ service }, await bus.deadLetterCount());
          } catch {
            // NATS away: see collectLag.
          }
        }
      },
    }),
    notificationFailures: new Counter({
      name: 'samsyn_notification_failures_total',
      help: 'Notifications that could not be delivered, by channel (email, rest-hook, fhir-push) and reason',
      labelNames: ['service', 'channel', 'reason'],
      registers: [registry],
    }),
  };
  return shared;
}
