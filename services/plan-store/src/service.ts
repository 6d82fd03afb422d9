// The plan-store service: the SIP plan as a versioned CarePlan, its consent-gated reads, pushes to the
// participants' own FHIR endpoints, and the person's copy.
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
import { capability, carePlanRoutes } from './app.ts';
import { recordConsentEnded, recordConsentGiven } from './case-access/project-consent.ts';
import { planStoreConfigSchema } from './config.ts';
import { caseProjection, inbox, outbox } from './db/schema.ts';
import { PlanTimerWorker } from './deadlines/timers.ts';
import { PlanPushWorker } from './deliver/push-worker.ts';
import { PLAN_CODE_SYSTEMS } from './plan/codes.ts';
import { loadR4Definitions } from './plan/r4.ts';

export const SERVICE = 'plan-store';

export function createPlanStoreService(deps: ServiceDeps): ServiceInstance {
  const { database, bus, metrics } = deps;
  const config = loadConfig(planStoreConfigSchema, deps.env ?? {});
  const log = deps.log.child({ service: SERVICE });
  const relay = new OutboxRelay({
    db: database.db,
    outbox,
    bus,
    log,
    onPublished: (n) => metrics.eventsPublished.inc({ service: SERVICE }, n),
    onBacklog: (n) => metrics.outboxBacklog.set({ service: SERVICE }, n),
  });
  const consumer = (stream: 'INVITATION' | 'CONSENT', durable: string, handlers: Handlers) =>
    new EventConsumer(bus, {
      stream,
      durable,
      db: database.db,
      inbox,
      log,
      handlers,
      onOutcome: (outcome, type) =>
        metrics.eventsConsumed.inc({ service: SERVICE, consumer: durable, type, outcome }),
    });
  // Who takes part in each case, and what the person's consent covers: the gate for every plan read and write.
  const caseEvents = consumer('INVITATION', SERVICE, caseProjectionHandlers(caseProjection));
  const consentEvents = consumer('CONSENT', `${SERVICE}-consent`, {
    consentGiven: recordConsentGiven,
    consentRevoked: (e, tx) => recordConsentEnded(e, tx, 'revoked'),
    consentRefused: (e, tx) => recordConsentEnded(e, tx, 'refused'),
  });
  const pusher = new PlanPushWorker({
    db: database.db,
    endpoints: config.endpoints,
    log,
    maxAttempts: config.PLAN_PUSH_MAX_ATTEMPTS,
    backoffMs: config.PLAN_PUSH_BACKOFF_MS,
    pollMs: config.PLAN_PUSH_POLL_MS,
    timeoutMs: config.PLAN_PUSH_TIMEOUT_MS,
    afterOutbox: () => relay.kick(),
  });

  const timers = new PlanTimerWorker({
    db: database.db,
    pollMs: config.PLAN_TIMER_POLL_MS,
    log,
    afterOutbox: () => relay.kick(),
  });

  const fhir = new Hono<AppEnv>();
  fhir.route(
    '/CarePlan',
    carePlanRoutes({
      db: database.db,
      auditor: createAuditor({ outbox, service: SERVICE }),
      patientKeySecret: config.PATIENT_KEY_SECRET,
      endpoints: config.endpoints,
      afterCommit: () => {
        relay.kick();
        pusher.kick();
      },
    }),
  );
  return {
    name: SERVICE,
    fhir,
    capability,
    codeSystems: PLAN_CODE_SYSTEMS,
    migrate: () =>
      migrate(database, {
        schema: 'plan_store',
        migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
      }),
    start: async () => {
      loadR4Definitions();
      await bus.ensureStreams(['INVITATION', 'CONSENT', 'PLAN', 'AUDIT']);
      relay.start();
      await caseEvents.start();
      await consentEvents.start();
      pusher.start();
      timers.start();
    },
    stop: async () => {
      await Promise.all([pusher.stop(), timers.stop()]);
      await Promise.all([caseEvents.drain(), consentEvents.drain()]);
      await relay.stop();
    },
    checks: {
      [`${SERVICE}-database`]: () => database.ping(),
      [`${SERVICE}-outbox`]: async () => void (await relay.backlog()),
      nats: () => bus.ping(),
    },
  };
}
