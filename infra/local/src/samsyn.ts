// All five services composed into one app over one database and one NATS connection (the one-machine shape).
import type { Bus } from '@samsyn/bus';
import { createConsentService } from '@samsyn/consent';
import { borrowed, type Database } from '@samsyn/db';
import { createInvitationService } from '@samsyn/invitation';
import { createNotificationService } from '@samsyn/notification';
import { createPlanStoreService } from '@samsyn/plan-store';
import {
  type Authenticator,
  composeApp,
  type DevTokenMinter,
  type Logger,
  type Metrics,
  type ServiceFactory,
  type ServiceInstance,
} from '@samsyn/platform';
import { createStatisticsService } from '@samsyn/statistics';

export const SERVICE_FACTORIES: Record<string, ServiceFactory> = {
  invitation: createInvitationService,
  consent: createConsentService,
  notification: createNotificationService,
  'plan-store': createPlanStoreService,
  statistics: createStatisticsService,
};

export interface SamsynOptions {
  database: Database;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  authenticator: Authenticator;
  env?: Record<string, string | undefined>;
  /** Development token minter, for the staff inbox's sign-in page (only with the development key). */
  devTokens?: DevTokenMinter;
}

export interface Samsyn {
  app: ReturnType<typeof composeApp>;
  services: ServiceInstance[];
  /** Migrates every schema, then starts consumers and relays. */
  start(): Promise<void>;
  /** Stops accepting (readyz 503) and drains every service's background work. */
  stop(): Promise<void>;
}

export async function createSamsyn(options: SamsynOptions): Promise<Samsyn> {
  // Each service borrows the shared database: the runner, not a service, closes it.
  const services = await Promise.all(
    Object.values(SERVICE_FACTORIES).map((factory) =>
      factory({
        database: borrowed(options.database),
        bus: options.bus,
        log: options.log,
        metrics: options.metrics,
        ...(options.env ? { env: options.env } : {}),
        ...(options.devTokens ? { devTokens: options.devTokens } : {}),
      }),
    ),
  );
  let accepting = true;
  const app = composeApp({
    services,
    authenticator: options.authenticator,
    log: options.log,
    metrics: options.metrics,
    accepting: () => accepting,
    serviceLabel: 'all-in-one',
  });
  return {
    app,
    services,
    async start() {
      await options.bus.ensureStreams();
      for (const s of services) await s.migrate();
      for (const s of services) await s.start();
    },
    async stop() {
      accepting = false;
      await Promise.all(services.map((s) => s.stop()));
    },
  };
}
