// The consent service: Consent and the access log (AuditEvent), composed for a runner.
import { fileURLToPath } from 'node:url';
import { EventConsumer, type Handlers, OutboxRelay } from '@samsyn/bus';
import { caseProjectionHandlers } from '@samsyn/case-projection';
import { migrate } from '@samsyn/db';
import {
  type AppEnv,
  createAuditor,
  loadConfig,
  type ServiceDeps,
  type ServiceInstance,
} from '@samsyn/platform';
import { Hono } from 'hono';
import { AuditPurge } from './access-log/purge.ts';
import { recordAuditEntry } from './access-log/record-audit.ts';
import { auditEventRoutes, capability, consentRoutes } from './app.ts';
import { consentConfigSchema } from './config.ts';
import { caseProjection, inbox, outbox } from './db/schema.ts';

export const SERVICE = 'consent';

export function createConsentService(deps: ServiceDeps): ServiceInstance {
  const { database, bus, metrics } = deps;
  const config = loadConfig(consentConfigSchema, deps.env ?? {});
  const log = deps.log.child({ service: SERVICE });
  const relay = new OutboxRelay({
    db: database.db,
    outbox,
    bus,
    log,
    onPublished: (n) => metrics.eventsPublished.inc({ service: SERVICE }, n),
    onBacklog: (n) => metrics.outboxBacklog.set({ service: SERVICE }, n),
  });
  const consumer = (
    stream: 'INVITATION' | 'AUDIT',
    durable: string,
    handlers: Handlers,
    independentEvents = false,
  ) =>
    new EventConsumer(bus, {
      stream,
      durable,
      db: database.db,
      inbox,
      log,
      handlers,
      independentEvents,
      onOutcome: (outcome, type) =>
        metrics.eventsConsumed.inc({ service: SERVICE, consumer: durable, type, outcome }),
    });
  // Who takes part in each case: the gate for every Consent read and write.
  const caseEvents = consumer('INVITATION', SERVICE, caseProjectionHandlers(caseProjection));
  // The access log of every service, this one included.
  // Each entry is an insert of its own (an append-only log): a batch of entries goes out in one round trip.
  const auditEntries = consumer('AUDIT', `${SERVICE}-audit`, { auditRecorded: recordAuditEntry }, true);
  const purge = new AuditPurge({
    db: database.db,
    retentionDays: config.AUDIT_RETENTION_DAYS,
    intervalMs: config.AUDIT_PURGE_INTERVAL_MS,
    log,
  });

  const routeDeps = {
    db: database.db,
    auditor: createAuditor({ outbox, service: SERVICE }),
    afterCommit: () => relay.kick(),
    config,
  };
  const fhir = new Hono<AppEnv>();
  fhir.route('/Consent', consentRoutes(routeDeps));
  fhir.route('/AuditEvent', auditEventRoutes(routeDeps));
  return {
    name: SERVICE,
    fhir,
    capability,
    migrate: () =>
      migrate(database, {
        schema: SERVICE,
        migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
      }),
    start: async () => {
      await bus.ensureStreams(['INVITATION', 'CONSENT', 'AUDIT']);
      relay.start();
      await caseEvents.start();
      await auditEntries.start();
      purge.start();
    },
    stop: async () => {
      await purge.stop();
      await Promise.all([caseEvents.drain(), auditEntries.drain()]);
      await relay.stop();
    },
    checks: {
      [`${SERVICE}-database`]: () => database.ping(),
      [`${SERVICE}-outbox`]: async () => void (await relay.backlog()),
      nats: () => bus.ping(),
    },
  };
}
