// The invitation service: SIP initiatives and invitations (Task), composed for a runner.
import { fileURLToPath } from 'node:url';
import { EventConsumer, OutboxRelay } from '@samsyn/bus';
import { migrate } from '@samsyn/db';
import {
  type AppEnv,
  createAuditor,
  loadConfig,
  type ServiceDeps,
  type ServiceInstance,
} from '@samsyn/platform';
import { Hono } from 'hono';
import { capability, taskRoutes } from './app.ts';
import { CASE_CODE_SYSTEMS, MEETING_CODE_SYSTEMS } from './appointment/codes.ts';
import { appointmentCapability, appointmentRoutes } from './appointment/routes.ts';
import { applyConsentEnded, applyConsentGiven } from './case-coverage/apply-consent.ts';
import { invitationConfigSchema } from './config.ts';
import { inbox, outbox } from './db/schema.ts';
import { TimerLoop } from './deadlines/timer-loop.ts';
import { flagCapability, flagRoutes } from './deviation/routes.ts';
import { applyPlanClosed, applyPlanEstablished, applyPlanFollowedUp } from './follow-plan/apply-plan.ts';

export const SERVICE = 'invitation';

export function createInvitationService(deps: ServiceDeps): ServiceInstance {
  const { database, bus, metrics } = deps;
  const config = loadConfig(invitationConfigSchema, deps.env ?? {});
  const log = deps.log.child({ service: SERVICE });
  const relay = new OutboxRelay({
    db: database.db,
    outbox,
    bus,
    log,
    onPublished: (n) => metrics.eventsPublished.inc({ service: SERVICE }, n),
    onBacklog: (n) => metrics.outboxBacklog.set({ service: SERVICE }, n),
  });
  const fhir = new Hono<AppEnv>();
  const afterCommit = () => relay.kick();
  const auditor = createAuditor({ outbox, service: SERVICE });
  fhir.route('/Task', taskRoutes({ db: database.db, afterCommit, config, auditor }));
  fhir.route('/Appointment', appointmentRoutes({ db: database.db, afterCommit, config, auditor }));
  fhir.route('/Flag', flagRoutes({ db: database.db, afterCommit, auditor }));
  const consentEvents = new EventConsumer(bus, {
    stream: 'CONSENT',
    durable: SERVICE,
    db: database.db,
    inbox,
    log,
    handlers: {
      consentGiven: async (event, tx) => {
        await applyConsentGiven(event, tx);
        queueMicrotask(afterCommit);
      },
      consentRevoked: async (event, tx) => {
        await applyConsentEnded(event, tx, 'consent-withdrawn');
        queueMicrotask(afterCommit);
      },
      consentRefused: async (event, tx) => {
        await applyConsentEnded(event, tx, 'consent-refused');
        queueMicrotask(afterCommit);
      },
    },
    onOutcome: (outcome, type) =>
      metrics.eventsConsumed.inc({ service: SERVICE, consumer: SERVICE, type, outcome }),
  });
  // The plan's life moves the case on (held → planned → followed-up → closed).
  const planEvents = new EventConsumer(bus, {
    stream: 'PLAN',
    durable: SERVICE,
    db: database.db,
    inbox,
    log,
    // A plan event may overtake the attendance that makes the case held: retry soon, then keep retrying.
    backoffMs: [250, 500, 1000, 2000, 3000, 5000, 10_000, 30_000],
    maxDeliver: 20,
    handlers: {
      planEstablished: async (event, tx) => {
        await applyPlanEstablished(event, tx);
        queueMicrotask(afterCommit);
      },
      planFollowedUp: async (event, tx) => {
        await applyPlanFollowedUp(event, tx);
        queueMicrotask(afterCommit);
      },
      planClosed: async (event, tx) => {
        await applyPlanClosed(event, tx);
        queueMicrotask(afterCommit);
      },
    },
    onOutcome: (outcome, type) =>
      metrics.eventsConsumed.inc({ service: SERVICE, consumer: `${SERVICE}-plan`, type, outcome }),
  });
  const timers = new TimerLoop({ db: database.db, bus, log, config, afterCommit });
  return {
    name: SERVICE,
    fhir,
    capability: [...capability, appointmentCapability, flagCapability],
    codeSystems: [...MEETING_CODE_SYSTEMS, ...CASE_CODE_SYSTEMS],
    migrate: () =>
      migrate(database, {
        schema: SERVICE,
        migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
      }),
    start: async () => {
      // Publishes to INVITATION and AUDIT, reads CONSENT and PLAN.
      await bus.ensureStreams(['INVITATION', 'AUDIT', 'CONSENT', 'PLAN']);
      relay.start();
      await consentEvents.start();
      await planEvents.start();
      timers.start();
    },
    stop: async () => {
      await timers.stop();
      await Promise.all([consentEvents.drain(), planEvents.drain()]);
      await relay.stop();
    },
    checks: {
      [`${SERVICE}-database`]: () => database.ping(),
      [`${SERVICE}-outbox`]: async () => void (await relay.backlog()),
      nats: () => bus.ping(),
    },
  };
}
