// The shape every Samsyn service has, how services are composed behind one /fhir base, and the standalone boot.
import { join } from 'node:path';
import { Bus } from '@samsyn/bus';
import { type Database, migrate, openPostgres } from '@samsyn/db';
import {
  CODE_SYSTEMS,
  type CodeSystem,
  capabilityStatement,
  fhirErrorHandler,
  fhirNotFound,
  NotFound,
  parseSearch,
  type ResourceCapability,
  searchBundle,
  sendBundle,
  sendResource,
} from '@samsyn/fhir';
import { Hono } from 'hono';
import type { z } from 'zod';
import {
  type AuthContext,
  type Authenticator,
  type AuthVariables,
  authenticate,
  createAuthenticator,
  loadOrCreateDevKey,
  requireScope,
} from './auth.ts';
import { type BaseConfig, baseConfigSchema, loadConfig } from './config.ts';
import {
  listen,
  mountHealth,
  observe,
  type ReadinessCheck,
  type RequestVariables,
  type RunningServer,
} from './http.ts';
import { createLogger, type Logger } from './logger.ts';
import { type Metrics, processMetrics, unwatchBus, watchBus } from './metrics.ts';
import { onShutdownSignal } from './shutdown.ts';

/** Hono env of every FHIR route: the caller, the trace and a request logger. */
export type AppEnv = { Variables: AuthVariables & RequestVariables };

export interface ServiceDeps {
  database: Database;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  /** Extra settings from the environment; each service validates its own with zod. */
  env?: Record<string, string | undefined>;
}

/** A running service as the runners see it: its FHIR routes, its capability, its background work. */
export interface ServiceInstance {
  name: string;
  /** Routes relative to /fhir (e.g. `/Task`), authenticated by the composer. */
  fhir: Hono<AppEnv>;
  capability: ResourceCapability[];
  /** Extra non-FHIR pages (e.g. the staff inbox), mounted at the root. */
  pages?: Hono;
  /** Code systems the service defines itself, served under /fhir/CodeSystem/<id> beside the shared ones. */
  codeSystems?: readonly CodeSystem[];
  /** Applies migrations; must run before start(). */
  migrate(): Promise<void>;
  /** Starts consumers, the outbox relay and timers. */
  start(): Promise<void>;
  /** Stops pulling, finishes in-flight work, stops the relay. */
  stop(): Promise<void>;
  checks: Record<string, ReadinessCheck>;
}

export type ServiceFactory = (deps: ServiceDeps) => ServiceInstance | Promise<ServiceInstance>;

export interface ComposeOptions {
  services: ServiceInstance[];
  authenticator: Authenticator;
  log: Logger;
  metrics: Metrics;
  accepting: () => boolean;
  serviceLabel: string;
}

/** One Hono app for one or more services: /fhir/* (authenticated), /fhir/metadata, CodeSystems, health. */
export function composeApp(options: ComposeOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', observe({ service: options.serviceLabel, log: options.log, metrics: options.metrics }));
  app.onError(fhirErrorHandler(options.log));
  app.notFound(fhirNotFound);
  mountHealth(app as unknown as Hono, {
    checks: Object.assign({}, ...options.services.map((s) => s.checks)),
    metrics: options.metrics,
    accepting: options.accepting,
  });
  const statement = capabilityStatement([
    ...options.services.flatMap((s) => s.capability),
    {
      type: 'CodeSystem',
      interactions: ['read', 'search-type'],
      searchParams: [{ name: 'url', type: 'string' }],
    },
  ]);
  // The CapabilityStatement is public so clients can discover how to authenticate (SMART App Launch §2.0.1).
  app.get('/fhir/metadata', (c) => sendResource(c, statement));
  app.use('/fhir/*', authenticate(options.authenticator));
  // JSON APIs beside FHIR (e.g. /api/statistics) need a bearer token just the same.
  app.use('/api/*', authenticate(options.authenticator));
  // Declared as search-type above, so served: `url` finds a code system by its canonical URL (terminology, no person data).
  app.get('/fhir/CodeSystem', (c) => {
    requireScope(c.var.auth, 'CodeSystem', 's');
    const search = parseSearch(new URL(c.req.url).searchParams, { url: { kind: 'string' } });
    const urls = search.params.filter((p) => p.name === 'url').map((p) => p.values);
    const found = [...CODE_SYSTEMS, ...options.services.flatMap((s) => s.codeSystems ?? [])].filter((cs) =>
      urls.every((alternatives) => alternatives.includes(cs.url ?? '')),
    );
    const page = found.slice(search.offset, search.offset + search.count);
    return sendBundle(
      c,
      searchBundle({
        resources: page,
        total: found.length,
        requestUrl: c.req.url,
        count: search.count,
        offset: search.offset,
      }),
    );
  });
  app.get('/fhir/CodeSystem/:id', (c) => {
    requireScope(c.var.auth, 'CodeSystem', 'r');
    const cs = [...CODE_SYSTEMS, ...options.services.flatMap((s) => s.codeSystems ?? [])].find(
      (s) => s.id === c.req.param('id'),
    );
    if (!cs) throw new NotFound('CodeSystem', c.req.param('id'));
    return sendResource(c, cs);
  });
  for (const service of options.services) {
    app.route('/fhir', service.fhir);
    if (service.pages) app.route('/', service.pages as unknown as Hono<AppEnv>);
  }
  return app;
}

/** The caller of a FHIR route. */
export function caller(c: { var: { auth: AuthContext } }): AuthContext {
  return c.var.auth;
}

export async function authenticatorFromConfig(config: BaseConfig): Promise<Authenticator> {
  return createAuthenticator({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    ...(config.AUTH_JWKS_URL ? { jwksUrl: config.AUTH_JWKS_URL } : {}),
    ...(config.AUTH_PUBLIC_KEY_PEM ? { publicKeyPem: config.AUTH_PUBLIC_KEY_PEM } : {}),
    ...(config.AUTH_DEV_KEY
      ? { devPublicJwk: (await loadOrCreateDevKey(devKeyPath(config))).publicJwk }
      : {}),
  });
}

export function devKeyPath(config: Pick<BaseConfig, 'DATA_DIR'>): string {
  return join(config.DATA_DIR, 'dev-signing-key.json');
}

/**
 * Runs one service as its own process: config → connect (db, nats) → migrate → serve → drain on SIGTERM.
 * Each service's main.ts is a call to this.
 */
export async function runStandalone(
  name: string,
  factory: ServiceFactory,
  schema: z.ZodType = baseConfigSchema,
) {
  const config = loadConfig(schema) as BaseConfig;
  const log = createLogger({ service: name, level: config.LOG_LEVEL });
  if (!config.DATABASE_URL)
    throw new Error(`${name}: DATABASE_URL is required when a service runs on its own`);
  const database = openPostgres({
    url: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: name,
  });
  const bus = await Bus.connect({
    servers: config.NATS_URL,
    name,
    namespace: config.NATS_NAMESPACE,
    replicas: config.NATS_STREAM_REPLICAS,
    log,
    waitOnFirstConnect: true,
  });
  await bus.ensureStreams();
  const metrics = processMetrics();
  watchBus(bus, name);
  const service = await factory({ database, bus, log, metrics, env: process.env });
  await service.migrate();
  if (process.argv.includes('migrate')) {
    // `node dist/main.js migrate`: the Kubernetes migration Job, run before a rollout; it only migrates.
    log.info('migrations applied; exiting');
    await bus.close();
    await database.close();
    return;
  }
  let accepting = true;
  const app = composeApp({
    services: [service],
    authenticator: await authenticatorFromConfig(config),
    log,
    metrics,
    accepting: () => accepting,
    serviceLabel: name,
  });
  let server: RunningServer | undefined;
  let starting: Promise<void> = Promise.resolve();
  // Registered before anything starts: a SIGTERM during start-up drains what was started instead of killing the
  // process with messages in hand (Kubernetes may stop a pod at any moment).
  onShutdownSignal(
    log,
    () => [
      {
        name: 'stop accepting',
        run: async () => {
          accepting = false;
        },
      },
      { name: 'finish starting', run: () => starting.catch(() => {}) },
      { name: 'close http', run: async () => server?.close(config.SHUTDOWN_GRACE_SECONDS * 500) },
      { name: 'drain consumers', run: () => service.stop() },
      {
        name: 'close nats',
        run: () => {
          unwatchBus(bus);
          return bus.close();
        },
      },
      { name: 'close database', run: () => database.close() },
    ],
    config.SHUTDOWN_GRACE_SECONDS * 1000,
  );
  starting = (async () => {
    await service.start();
    server = await listen(app as unknown as Hono, { port: config.PORT, host: config.HOST });
    log.info({ port: server.port }, `${name} listening`);
  })();
  await starting;
}

/** Folder of a service's migrations, given its src/ directory. */
export function migrationsFolder(srcDir: string): string {
  return join(srcDir, 'db', 'migrations');
}

export { migrate };
