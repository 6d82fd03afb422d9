// The notification service: turns events into notifications for staff units (inbox, e-mail, live updates) and
// into FHIR subscription notifications for record systems, composed for a runner.
import { fileURLToPath } from 'node:url';
import { type ConsumedEvent, EventConsumer } from '@samsyn/bus';
import type { StreamName } from '@samsyn/contracts';
import { migrate } from '@samsyn/db';
import { type AppEnv, loadConfig, type ServiceDeps, type ServiceInstance } from '@samsyn/platform';
import { Hono } from 'hono';
import { capability, communicationRoutes } from './app.ts';
import { notificationConfigSchema } from './config.ts';
import { type CommunicationRow, inbox } from './db/schema.ts';
import { Mailer } from './email/mailer.ts';
import { inboxRoutes } from './inbox/routes.ts';
import { LiveHub } from './live/hub.ts';
import { notificationHandlers } from './notify/apply.ts';
import { SubscriptionDeliverer } from './subscription/deliver.ts';
import { subscriptionCapability, subscriptionRoutes } from './subscription/routes.ts';

export const SERVICE = 'notification';

export function createNotificationService(deps: ServiceDeps): ServiceInstance {
  const { database, bus, metrics } = deps;
  const config = loadConfig(notificationConfigSchema, deps.env ?? {});
  const log = deps.log.child({ service: SERVICE });
  const db = database.db;
  const live = new LiveHub(bus);
  const mailer = new Mailer({
    db,
    ...(config.NOTIFICATION_SMTP_URL ? { smtpUrl: config.NOTIFICATION_SMTP_URL } : {}),
    from: config.NOTIFICATION_MAIL_FROM,
    publicUrl: config.NOTIFICATION_PUBLIC_URL,
    backoffMs: config.NOTIFICATION_EMAIL_BACKOFF_MS,
    pollMs: config.NOTIFICATION_WORKER_POLL_MS,
    log,
    onFailure: (reason) => metrics.notificationFailures.inc({ service: SERVICE, channel: 'email', reason }),
    onStateChanged: (changed) => {
      for (const c of changed) live.publish(c.recipientOrg, { id: c.id, change: 'updated' });
    },
  });

  const deliverer = new SubscriptionDeliverer({
    db,
    fhirBase: `${config.NOTIFICATION_PUBLIC_URL.replace(/\/$/, '')}/fhir`,
    pollMs: config.NOTIFICATION_WORKER_POLL_MS,
    backoffMs: config.NOTIFICATION_HOOK_BACKOFF_MS,
    onFailure: (reason) =>
      metrics.notificationFailures.inc({ service: SERVICE, channel: 'rest-hook', reason }),
    errorAfter: config.NOTIFICATION_HOOK_ERROR_AFTER,
    log,
  });

  /** After an event's transaction commits: push the new notifications to open inboxes and wake the workers. */
  async function afterApply(event: ConsumedEvent): Promise<void> {
    const created = stored.get(event) ?? [];
    stored.delete(event);
    for (const c of created) live.publish(c.recipientOrg, { id: c.id, change: 'created' });
    if (created.length > 0) mailer.kick();
    deliverer.kick();
  }

  // What each event's handler stored, for afterApply once its transaction committed (a rolled-back attempt's
  // entry is replaced by the retry's, and dropped with the event object otherwise).
  const stored = new WeakMap<ConsumedEvent, CommunicationRow[]>();
  const handlers = notificationHandlers((event, rows) => stored.set(event, rows));
  const consumers = (['INVITATION', 'CONSENT', 'PLAN'] as StreamName[]).map(
    (stream) =>
      new EventConsumer(bus, {
        stream,
        durable: SERVICE,
        db,
        inbox,
        log,
        handlers,
        concurrency: config.NOTIFICATION_CONSUMER_CONCURRENCY,
        // Lanes by case: events of one case apply in order (a meeting after its case), different cases in parallel.
        // A case-wide event that arrives before its case waits a little and tries again.
        backoffMs: [250, 1000, 2000, 5000, 15_000, 30_000],
        afterApply,
        onOutcome: (outcome, type) =>
          metrics.eventsConsumed.inc({ service: SERVICE, consumer: SERVICE, type, outcome }),
      }),
  );
  const fhir = new Hono<AppEnv>();
  fhir.route('/Communication', communicationRoutes({ db, live }));
  fhir.route('/Subscription', subscriptionRoutes({ db, onCreated: () => deliverer.kick() }));
  return {
    name: SERVICE,
    fhir,
    capability: [...capability, subscriptionCapability],
    pages: inboxRoutes({
      ...(deps.devTokens ? { devTokens: deps.devTokens } : {}),
      ...(config.NOTIFICATION_FHIR_BASE ? { fhirBase: config.NOTIFICATION_FHIR_BASE } : {}),
    }),
    migrate: () =>
      migrate(database, {
        schema: SERVICE,
        migrationsFolder: fileURLToPath(new URL('./db/migrations', import.meta.url)),
      }),
    start: async () => {
      await bus.ensureStreams(['INVITATION', 'CONSENT', 'PLAN', 'NOTIFICATION']);
      for (const c of consumers) await c.start();
      mailer.start();
      deliverer.start();
    },
    stop: async () => {
      await Promise.all(consumers.map((c) => c.drain()));
      await Promise.all([mailer.stop(), deliverer.stop()]);
    },
    checks: { [`${SERVICE}-database`]: () => database.ping(), nats: () => bus.ping() },
  };
}
