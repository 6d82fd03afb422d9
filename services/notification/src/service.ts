// The notification service: turns events into notifications for staff units, composed for a runner.
import { fileURLToPath } from 'node:url';
import { EventConsumer } from '@samsyn/bus';
import { migrate } from '@samsyn/db';
import type { AppEnv, ServiceDeps, ServiceInstance } from '@samsyn/platform';
import { Hono } from 'hono';
import { capability, communicationRoutes } from './app.ts';
import { inbox } from './db/schema.ts';
import { notifyInvitedOrgs } from './notify-invitation/notify-invitation.ts';

export const SERVICE = 'notification';

export function createNotificationService(deps: ServiceDeps): ServiceInstance {
  const { database, bus, metrics } = deps;
  const log = deps.log.child({ service: SERVICE });
  const caseEvents = new EventConsumer(bus, {
    stream: 'INVITATION',
    durable: SERVICE,
    db: database.db,
    inbox,
    log,
    handlers: { caseInitiated: notifyInvitedOrgs },
    onOutcome: (outcome, type) =>
      metrics.eventsConsumed.inc({ service: SERVICE, consumer: SERVICE, type, outcome }),
  });
  const fhir = new Hono<AppEnv>();
  fhir.route('/Communication', communicationRoutes({ db: database.db }));
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
      await bus.ensureStreams(['INVITATION', 'NOTIFICATION']);
      await caseEvents.start();
    },
    stop: () => caseEvents.drain(),
    checks: { [`${SERVICE}-database`]: () => database.ping(), nats: () => bus.ping() },
  };
}
