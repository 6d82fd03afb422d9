// The statistics service: the SIP funnel as MeasureReports. Its resources arrive in later work; it already owns its schema and stream.
import { fileURLToPath } from 'node:url';
import { OutboxRelay } from '@samsyn/bus';
import { migrate } from '@samsyn/db';
import type { AppEnv, ServiceDeps, ServiceInstance } from '@samsyn/platform';
import { Hono } from 'hono';
import { outbox } from './db/schema.ts';

export const SERVICE = 'statistics';

export function createStatisticsService(deps: ServiceDeps): ServiceInstance {
  const { database, bus, metrics } = deps;
  const log = deps.log.child({ service: SERVICE });
  const relay = new OutboxRelay({
    db: database.db,
    outbox,
    bus,
    log,
    onPublished: (n) => metrics.eventsPublished.inc({ service: SERVICE }, n),
    onBacklog: (n) => metrics.outboxBacklog.set({ service: SERVICE }, n),
  });
  return {
    name: SERVICE,
    fhir: new Hono<AppEnv>(),
    capability: [],
    migrate: () =>
      migrate(database, {
        schema: 'statistics',
        migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
      }),
    start: async () => {
      await bus.ensureStreams(['STATISTICS']);
      relay.start();
    },
    stop: () => relay.stop(),
    checks: { [`${SERVICE}-database`]: () => database.ping(), nats: () => bus.ping() },
  };
}
