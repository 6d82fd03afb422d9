// Runs one or more services for a test file against real PostgreSQL and NATS, isolated by database and namespace.
import { Bus } from '@samsyn/bus';
import { borrowed, type Database, openPostgres } from '@samsyn/db';
import {
  composeApp,
  createAuthenticator,
  type DevKey,
  generateDevKey,
  mintToken,
  processMetrics,
  type ServiceFactory,
  type ServiceInstance,
  type TokenClaims,
} from '@samsyn/platform';
import type { Hono } from 'hono';
import { pino } from 'pino';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { deleteNamespaceStreams, natsUrl, testNamespace } from './nats.ts';

export const TEST_AUTH = { issuer: 'samsyn-test', audience: 'samsyn' };

export interface Harness {
  app: Hono;
  services: ServiceInstance[];
  database: Database;
  bus: Bus;
  namespace: string;
  key: DevKey;
  /** A bearer token for `org` (all default scopes unless given). */
  token(org: string, claims?: Partial<TokenClaims>): Promise<string>;
  /** In-process HTTP request with a token for `org` (omit org for no Authorization header). */
  request(
    path: string,
    init?: RequestInit & { org?: string; claims?: Partial<TokenClaims> },
  ): Promise<Response>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  label: string;
  factories: ServiceFactory[];
  env?: Record<string, string | undefined>;
  /** Skip start() (consumers, relays) when a test wants to drive them itself. */
  start?: boolean;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const testDb: TestDatabase = await createTestDatabase(options.label);
  const database = openPostgres({ url: testDb.url, max: 5, applicationName: `test-${options.label}` });
  const namespace = testNamespace(options.label);
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const bus = await Bus.connect({ servers: natsUrl(), name: `test-${options.label}`, namespace, log });
  await bus.ensureStreams();
  const metrics = processMetrics();
  const key = await generateDevKey();
  const devTokens = (claims: TokenClaims) => mintToken(key, claims, TEST_AUTH);
  const services = await Promise.all(
    options.factories.map((f) =>
      f({ database: borrowed(database), bus, log, metrics, env: options.env ?? {}, devTokens }),
    ),
  );
  for (const s of services) await s.migrate();
  if (options.start !== false) for (const s of services) await s.start();
  const app = composeApp({
    services,
    authenticator: createAuthenticator({ ...TEST_AUTH, devPublicJwk: key.publicJwk }),
    log,
    metrics,
    accepting: () => true,
    serviceLabel: options.label,
  }) as unknown as Hono;
  const token = (org: string, claims: Partial<TokenClaims> = {}) =>
    mintToken(key, { org, ...claims }, TEST_AUTH);
  return {
    app,
    services,
    database,
    bus,
    namespace,
    key,
    token,
    async request(path, init = {}) {
      const { org, claims, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (org) headers.set('authorization', `Bearer ${await token(org, claims)}`);
      if (rest.body && !headers.has('content-type')) headers.set('content-type', 'application/fhir+json');
      return app.request(`http://samsyn.test${path}`, { ...rest, headers });
    },
    async stop() {
      await Promise.allSettled(services.map((s) => s.stop()));
      await bus.close();
      await database.close();
      await deleteNamespaceStreams(natsUrl(), namespace);
      await testDb.drop();
    },
  };
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} not reached within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
