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
import { appointmentRoutes } from './appointment/routes.ts';
import { invitationConfigSchema } from './config.ts';
import { applyConsentEnded, applyConsentGiven } from './consent/apply-consent.ts';
import { inbox, outbox } from './db/schema.ts';
import { TimerLoop } from './deadlines/timer-loop.ts';

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
  fhir.route('/Appointment', appointmentRoutes({ db: database.db, afterCommit, config }));
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
  const timers = new TimerLoop({ db: database.db, bus, log, config, afterCommit });
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
      // Publishes to INVITATION and AUDIT, reads CONSENT.
      await bus.ensureStreams(['INVITATION', 'AUDIT', 'CONSENT']);
      relay.start();
      await consentEvents.start();
      timers.start();
    },
    stop: async () => {
      await timers.stop();
      await consentEvents.drain();
      await relay.stop();
    },
    checks: {
      [`${SERVICE}-database`]: () => database.ping(),
      [`${SERVICE}-outbox`]: async () => void (await relay.backlog()),
      nats: () => bus.ping(),
    },
  };
}
