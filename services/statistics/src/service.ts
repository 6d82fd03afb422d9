// The statistics service: projections of the SIP funnel built only from events, served as MeasureReports,
// JSON, CSV and a dashboard, with small cells suppressed everywhere.
import { fileURLToPath } from 'node:url';
import { OutboxRelay } from '@samsyn/bus';
import { migrate } from '@samsyn/db';
import type { AppEnv, ServiceDeps, ServiceInstance } from '@samsyn/platform';
import { Hono } from 'hono';
import { dashboardRoutes } from './dashboard/page.ts';
import { outbox } from './db/schema.ts';
import { projectionConsumers } from './projection/consumers.ts';
import { ParentStatistics } from './projection/parent-statistics.ts';
import { clientOf } from './projection/store.ts';
import { ratingRoutes } from './rating/routes.ts';
import { apiRoutes, capability, fhirRoutes } from './report/routes.ts';

export const SERVICE = 'statistics';

export function createStatisticsService(deps: ServiceDeps): ServiceInstance {
  const { database, bus, metrics } = deps;
  const log = deps.log.child({ service: SERVICE });
  const relay = new OutboxRelay({
    db: database.db,
    outbox,
    bus,
    log,
    pollMs: 250,
    onPublished: (n) => metrics.eventsPublished.inc({ service: SERVICE }, n),
    onBacklog: (n) => metrics.outboxBacklog.set({ service: SERVICE }, n),
  });
  const parentStatistics = new ParentStatistics({
    client: clientOf(database.db),
    log,
    firstMs: 60_000,
    everyMs: 60 * 60_000,
  });
  const consumers = projectionConsumers({
    bus,
    db: database.db,
    log,
    durable: SERVICE,
    onOutcome: (outcome, type) =>
      metrics.eventsConsumed.inc({ service: SERVICE, consumer: SERVICE, type, outcome }),
  });
  const fhir = new Hono<AppEnv>();
  fhir.route('/', fhirRoutes(database.db));
  fhir.route(
    '/',
    ratingRoutes(database.db, () => relay.kick()),
  );
  const pages = new Hono<AppEnv>();
  pages.route('/', apiRoutes(database.db));
  pages.route('/', dashboardRoutes());
  return {
    name: SERVICE,
    fhir,
    capability: [
      ...capability,
      {
        type: 'QuestionnaireResponse',
        interactions: ['create'],
        searchParams: [],
        documentation:
          'A participant rating (1–5) of a closed SIP; write-only, so no unit reads an answer back',
      },
    ],
    pages: pages as unknown as Hono,
    migrate: () =>
      migrate(database, {
        schema: 'statistics',
        migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
      }),
    start: async () => {
      await bus.ensureStreams(['INVITATION', 'CONSENT', 'PLAN', 'STATISTICS']);
      relay.start();
      for (const c of consumers) await c.start();
      parentStatistics.start();
    },
    stop: async () => {
      await parentStatistics.stop();
      await Promise.all(consumers.map((c) => c.drain()));
      await relay.stop();
    },
    checks: { [`${SERVICE}-database`]: () => database.ping(), nats: () => bus.ping() },
  };
}
