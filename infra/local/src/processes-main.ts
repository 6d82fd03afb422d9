// `npm run start:processes`: builds the bundles, then runs the five services as separate processes behind a router.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createLogger, devKeyPath, loadOrCreateDevKey, mintToken } from '@samsyn/platform';
import { REPO_ROOT, SERVICE_NAMES, startProcesses } from './processes.ts';

const log = createLogger({ service: 'samsyn-processes' });
execFileSync(
  process.execPath,
  [
    join(REPO_ROOT, 'deploy', 'build-service.mjs'),
    ...SERVICE_NAMES.map((s) => join(REPO_ROOT, 'services', s)),
  ],
  { stdio: 'inherit' },
);
const dataDir = resolve(process.env.INIT_CWD ?? process.cwd(), process.env.DATA_DIR ?? '.data');
const basePort = Number(process.env.PORT ?? 8080);
const running = await startProcesses({
  // Separate processes cannot share an embedded PGlite: a PostgreSQL server is needed.
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  dataDir,
  basePort,
  routerPort: basePort,
  onLog: (_service, line) => process.stdout.write(`${line}\n`),
});
const key = await loadOrCreateDevKey(devKeyPath({ DATA_DIR: dataDir }));
const token = await mintToken(
  key,
  { org: 'SE2321000032-1001' },
  { issuer: 'samsyn-dev', audience: 'samsyn' },
);
console.log(
  [
    `Samsyn as ${SERVICE_NAMES.length} processes; router on ${running.router.url} (FHIR base ${running.router.url}/fhir)`,
    ...Object.values(running.services).map((s) => `  ${s.name.padEnd(13)} ${s.url}  (pid ${s.child()?.pid})`),
    `export TOKEN=${token}`,
  ].join('\n'),
);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping every service (SIGTERM, each drains)');
    void running.stop().then(() => process.exit(0));
  });
}
