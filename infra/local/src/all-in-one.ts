// `npm start`: all five services in one process on one port, embedded PGlite unless DATABASE_URL is set.
import { join, resolve } from 'node:path';
import { Bus } from '@samsyn/bus';
import { type Database, openPglite, openPostgres } from '@samsyn/db';
import {
  authenticatorFromConfig,
  baseConfigSchema,
  ConfigError,
  createLogger,
  devKeyPath,
  listen,
  loadConfig,
  loadOrCreateDevKey,
  mintToken,
  onShutdownSignal,
  processMetrics,
  watchBus,
} from '@samsyn/platform';
import type { Hono } from 'hono';
import { findOrStartNats } from './nats-server.ts';
import { createSamsyn } from './samsyn.ts';

// npm runs workspace scripts in the workspace folder; data lives where the user typed `npm start`.
const env = {
  AUTH_DEV_KEY: process.env.NODE_ENV === 'production' ? undefined : 'true',
  ...process.env,
  DATA_DIR: resolve(process.env.INIT_CWD ?? process.cwd(), process.env.DATA_DIR ?? '.data'),
};
let config: ReturnType<typeof loadConfig<typeof baseConfigSchema>>;
try {
  config = loadConfig(baseConfigSchema, env);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
const log = createLogger({ service: 'samsyn', level: config.LOG_LEVEL });

let nats: Awaited<ReturnType<typeof findOrStartNats>>;
try {
  nats = await findOrStartNats(process.env.NATS_URL, config.DATA_DIR);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
const database: Database = config.DATABASE_URL
  ? openPostgres({ url: config.DATABASE_URL, max: config.DATABASE_POOL_MAX, applicationName: 'samsyn' })
  : await openPglite(join(config.DATA_DIR, 'pglite'));
const bus = await Bus.connect({
  servers: nats.url,
  name: 'samsyn-all-in-one',
  namespace: config.NATS_NAMESPACE,
  replicas: config.NATS_STREAM_REPLICAS,
  log,
});
const metrics = processMetrics();
watchBus(bus, 'all-in-one');
const samsyn = await createSamsyn({
  database,
  bus,
  log,
  metrics,
  authenticator: await authenticatorFromConfig(config),
  env: process.env,
});
await samsyn.start();
const server = await listen(samsyn.app as unknown as Hono, { port: config.PORT, host: config.HOST });

const base = `http://localhost:${server.port}`;
const lines = [
  `Samsyn is up ${Math.round(process.uptime() * 1000)} ms after process start`,
  `  FHIR base      ${base}/fhir   (CapabilityStatement: ${base}/fhir/metadata)`,
  `  Health         ${base}/livez  ${base}/readyz`,
  `  Metrics        ${base}/metrics`,
  `  Database       ${database.driver === 'pglite' ? `embedded PGlite in ${join(config.DATA_DIR, 'pglite')}` : 'PostgreSQL (DATABASE_URL)'}`,
  `  NATS           ${nats.url} (${nats.how})`,
];
if (config.AUTH_DEV_KEY) {
  const key = await loadOrCreateDevKey(devKeyPath(config));
  const org = 'SE2321000032-1001';
  const token = await mintToken(
    key,
    { org, user: 'SE2321000032-9001', name: 'Utvecklare' },
    {
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
    },
  );
  lines.push(`  Dev token      for ${org} (more: npm run token -- --org <HSA-id>):`, `export TOKEN=${token}`);
}
console.log(lines.join('\n'));

onShutdownSignal(
  log,
  () => [
    { name: 'drain services', run: () => samsyn.stop() },
    { name: 'close http', run: () => server.close(config.SHUTDOWN_GRACE_SECONDS * 500) },
    { name: 'close nats', run: () => bus.close() },
    { name: 'close database', run: () => database.close() },
    {
      name: 'stop nats-server',
      run: async () => {
        nats.child?.kill('SIGTERM');
      },
    },
  ],
  config.SHUTDOWN_GRACE_SECONDS * 1000,
);
