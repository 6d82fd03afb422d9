// `npm run faults`: fault injection on the multi-process shape. Starts a private PostgreSQL and a private NATS
// JetStream (so nothing else on the machine is disturbed), runs the five services as separate processes, sends a load
// of initiatives and, while it runs, kills each service with SIGKILL in turn and restarts it, restarts NATS and
// crash-restarts PostgreSQL. Then it checks that nothing was lost or duplicated and prints a verdict.
// Options: --count 10000 --rate 100 --keep (leave the private servers' files for a post-mortem).
// Runs the built bundles (what the images run): `npm run build` first.
// Needs root (or the postgres user) to run initdb, and nats-server on PATH or in /usr/sbin.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type RunningProcesses, SERVICE_NAMES, startProcesses } from '@samsyn/local/src/processes.ts';
import { devKeyPath, loadOrCreateDevKey, mintToken } from '@samsyn/platform';
import { INITIATIVE_SYSTEM, ORGS, sipInitiative } from '@samsyn/testkit/fixtures';
import { connect } from 'nats';
import postgres from 'postgres';
import { Agent, request } from 'undici';
import { percentile } from './lib/load.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '100' },
    keep: { type: 'boolean', default: false },
  },
});
const COUNT = Number(values.count);
const RATE = Number(values.rate);
const WORK = mkdtempSync(join(tmpdir(), 'samsyn-faults-'));
const PG_PORT = 55432 + (process.pid % 1000);
const NATS_PORT = 14222 + (process.pid % 1000);
const HTTP_BASE_PORT = 17000 + (process.pid % 1000) * 10;
const PG_BIN = existsSync('/usr/lib/postgresql')
  ? join(
      '/usr/lib/postgresql',
      execFileSync('ls', ['/usr/lib/postgresql']).toString().trim().split('\n').sort().at(-1) ?? '',
      'bin',
    )
  : '';
const NATS_BIN =
  ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(existsSync) ??
  'nats-server';
const SERVICES = SERVICE_NAMES;
type ServiceName = (typeof SERVICES)[number];
const WARD = ORGS.regionWard;
const INVITEES = ['SE2120000415-2001', 'SE2120000415-3001', 'SE2120000415-4001'];
const DATABASE_URL = `postgres://postgres@127.0.0.1:${PG_PORT}/samsyn`;
const NATS_URL = `nats://127.0.0.1:${NATS_PORT}`;

const log = (line: string) =>
  console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const t0 = performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- private PostgreSQL ------------------------------------------------------------------------------------------
const pgData = join(WORK, 'pg');
const asPostgres = (cmd: string, args: string[]) =>
  userInfo().username === 'postgres'
    ? execFileSync(join(PG_BIN, cmd), args, { stdio: 'pipe' })
    : execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args], { stdio: 'pipe' });

function pgStart(): void {
  asPostgres('pg_ctl', [
    '-D',
    pgData,
    '-l',
    join(WORK, 'pg.log'),
    '-w',
    '-o',
    `-p ${PG_PORT} -k ${WORK} -c listen_addresses=127.0.0.1 -c max_connections=200`,
    'start',
  ]);
}

function pgCrashRestart(): void {
  // -m immediate: no checkpoint, no clean shutdown; the next start runs crash recovery from the WAL.
  asPostgres('pg_ctl', ['-D', pgData, '-m', 'immediate', 'stop']);
  pgStart();
}

// --- private NATS ------------------------------------------------------------------------------------------------
let nats: ChildProcess | undefined;
async function natsStart(): Promise<void> {
  nats = spawn(NATS_BIN, ['-a', '127.0.0.1', '-p', String(NATS_PORT), '-js', '-sd', join(WORK, 'nats')], {
    stdio: 'ignore',
  });
  await waitUntil(
    async () => {
      try {
        const nc = await connect({ servers: NATS_URL, reconnect: false });
        await nc.close();
        return true;
      } catch {
        return false;
      }
    },
    15_000,
    'nats-server up',
  );
}
async function natsRestart(): Promise<void> {
  const old = nats;
  old?.kill('SIGTERM');
  await new Promise((r) => old?.once('exit', r));
  await natsStart();
}

// --- the services, each its own process: the built bundles behind the router (infra/local/src/processes.ts) ------
let running: RunningProcesses | undefined;
const base = () => running?.router.url ?? '';

const killing = new Set<ServiceName>();
const unexpectedExits: string[] = [];

/** Reports at once when a service exits that the run did not kill, with its last log lines. */
function watch(name: ServiceName): void {
  const service = running?.services[name];
  service?.child()?.once('exit', (code, signal) => {
    if (killing.has(name)) return;
    const what = `${name} exited by itself (code ${code}, signal ${signal})`;
    unexpectedExits.push(what);
    log(`UNEXPECTED: ${what}; last lines:`);
    for (const line of service.lines.slice(-12)) console.log(`  ${line.slice(0, 500)}`);
  });
}

async function restart(name: ServiceName): Promise<void> {
  const service = running?.services[name];
  if (!service) throw new Error(`${name} is not running`);
  killing.add(name);
  await service.stop('SIGKILL');
  killing.delete(name);
  await sleep(1000);
  await service.start();
  watch(name);
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

// --- the load ----------------------------------------------------------------------------------------------------
const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
let token = '';
const latencies: number[] = [];
let retries = 0;

function initiative(n: number): string {
  return JSON.stringify(
    sipInitiative({
      identifier: `fault-${n}`,
      trigger: 'other',
      invitees: INVITEES.map((org, k) => ({ org, kind: k === 0 ? 'summoned' : 'invited' })),
    }),
  );
}

/** Sends initiative n until it is stored; a retry asks with If-None-Exist, so it never creates a second case. */
async function send(n: number): Promise<void> {
  const started = performance.now();
  let lastError = '';
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await request(`${base()}/fhir/Task`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/fhir+json',
          'if-none-exist': `identifier=${INITIATIVE_SYSTEM}|fault-${n}`,
        },
        body: initiative(n),
      });
      const text = await res.body.text();
      lastError = `${res.statusCode} ${text.slice(0, 200)}`;
      if (res.statusCode === 201 || res.statusCode === 200) {
        latencies.push(performance.now() - started);
        return;
      }
      if (res.statusCode < 500 && res.statusCode !== 429)
        throw new Error(`initiative ${n} refused with ${lastError}`);
    } catch (err) {
      if ((err as Error).message.includes('refused with')) throw err;
      lastError = (err as Error).message;
    }
    retries++;
    if (performance.now() - started > 180_000)
      throw new Error(`initiative ${n} not stored within 180 s (last: ${lastError})`);
    await sleep(Math.min(2000, 50 * 2 ** attempt));
  }
}

// --- the run -----------------------------------------------------------------------------------------------------
interface Check {
  what: string;
  expected: string | number;
  actual: string | number;
  ok: boolean;
}

async function main(): Promise<boolean> {
  if (!PG_BIN || !existsSync(join(PG_BIN, 'initdb')))
    throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
  log(
    `work dir ${WORK}; PostgreSQL :${PG_PORT}, NATS :${NATS_PORT}, services :${HTTP_BASE_PORT}–${HTTP_BASE_PORT + 4}`,
  );
  mkdirSync(pgData, { recursive: true });
  if (userInfo().username !== 'postgres') execFileSync('chown', ['-R', 'postgres', WORK]);
  asPostgres('initdb', ['-D', pgData, '-A', 'trust', '-U', 'postgres', '--no-instructions']);
  pgStart();
  const admin = postgres(`postgres://postgres@127.0.0.1:${PG_PORT}/postgres`, { max: 1, onnotice: () => {} });
  await admin`create database samsyn`;
  await admin.end();
  await natsStart();
  mkdirSync(join(WORK, 'data'), { recursive: true });
  running = await startProcesses({
    databaseUrl: DATABASE_URL,
    natsUrl: NATS_URL,
    dataDir: join(WORK, 'data'),
    // Fixed ports: a restarted service must come back where the router expects it.
    basePort: HTTP_BASE_PORT,
    routerPort: HTTP_BASE_PORT,
    env: { LOG_LEVEL: 'warn' },
    shutdownGraceSeconds: 5,
  });
  for (const name of SERVICES) watch(name);
  const key = await loadOrCreateDevKey(devKeyPath({ DATA_DIR: join(WORK, 'data') }));
  token = await mintToken(key, { org: WARD }, { issuer: 'samsyn-dev', audience: 'samsyn' });
  log(`five services up; sending ${COUNT} initiatives at ${RATE}/s`);

  const faults: { at: number; what: string; run: () => Promise<void> }[] = [
    ...SERVICES.map((s, i) => ({
      at: Math.round((COUNT * (i + 1)) / 8),
      what: `kill -9 ${s}, restart it`,
      run: () => restart(s),
    })),
    { at: Math.round((COUNT * 6) / 8), what: 'restart NATS', run: natsRestart },
    {
      at: Math.round((COUNT * 7) / 8),
      what: 'crash-restart PostgreSQL (pg_ctl -m immediate)',
      run: async () => pgCrashRestart(),
    },
  ];
  const faultLog: string[] = [];
  const inFlight: Promise<void>[] = [];
  let failed = 0;
  let sent = 0;
  const start = performance.now();
  // The faults run one after another ("each in turn"): the next starts when the previous part is back and the load
  // has passed its mark, so every part is down at least once while initiatives keep arriving.
  const chain = (async () => {
    for (const fault of faults) {
      while (sent < fault.at) await sleep(20);
      const t = performance.now();
      log(`fault at initiative ${sent}: ${fault.what}`);
      await fault.run();
      const line = `${fault.what}: back after ${((performance.now() - t) / 1000).toFixed(1)} s${sent >= COUNT ? ' (after the load ended)' : ''}`;
      faultLog.push(line);
      log(`  ${line}`);
    }
  })();
  for (let n = 0; n < COUNT; n++) {
    const due = start + (n * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inFlight.push(
      send(n).catch((err) => {
        failed++;
        log(`FAILED: ${(err as Error).message}`);
      }),
    );
    sent = n + 1;
    if (n > 0 && n % 1000 === 0) log(`${n} sent, ${retries} retries so far`);
  }
  await chain;
  await Promise.all(inFlight);
  const sendSeconds = (performance.now() - start) / 1000;
  log(
    `all ${COUNT} sent in ${sendSeconds.toFixed(1)} s (${retries} retries, ${failed} failed); waiting for quiet`,
  );

  const sql = postgres(DATABASE_URL, { max: 2, onnotice: () => {} });
  const nc = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  const backlog = async () => {
    let outbox = 0;
    for (const schema of ['invitation', 'consent', 'notification', 'plan_store', 'statistics']) {
      const exists =
        await sql`select 1 from information_schema.tables where table_schema = ${schema} and table_name = 'outbox'`;
      if (exists.length === 0) continue;
      const [row] =
        await sql`select count(*)::int as n from ${sql(schema)}.outbox where published_at is null`;
      outbox += row?.n ?? 0;
    }
    let pending = 0;
    for await (const stream of jsm.streams.list()) {
      for await (const consumer of jsm.consumers.list(stream.config.name)) {
        pending += consumer.num_pending + consumer.num_ack_pending;
      }
    }
    return { outbox, pending };
  };
  await waitUntil(
    async () => {
      const b = await backlog();
      return b.outbox === 0 && b.pending === 0;
    },
    300_000,
    'outboxes empty and every consumer caught up',
  );
  const quietAfter = (performance.now() - start) / 1000 - sendSeconds;
  log(`quiet ${quietAfter.toFixed(1)} s after the last initiative`);

  const checks: Check[] = [];
  const check = (what: string, expected: string | number, actual: string | number) =>
    checks.push({ what, expected, actual, ok: expected === actual });
  const one = async (q: Promise<{ n: number }[]>) => (await q)[0]?.n ?? -1;
  check('services that exited without being killed', 0, unexpectedExits.length);
  check('initiatives the load could not store', 0, failed);
  check('cases stored', COUNT, await one(sql`select count(*)::int as n from invitation."case"`));
  check(
    'cases without exactly 3 invitations',
    0,
    await one(
      sql`select count(*)::int as n from (select c.id from invitation."case" c left join invitation.invitation i on i.case_id = c.id group by c.id having count(i.id) <> 3) x`,
    ),
  );
  check(
    'invitation notifications (one per invitee)',
    COUNT * 3,
    await one(
      sql`select count(*)::int as n from notification.communication where about like 'Task/%' and recipient_org in ${sql(INVITEES)}`,
    ),
  );
  check(
    '(case, invitee) pairs with more than one invitation notification',
    0,
    await one(
      sql`select count(*)::int as n from (select case_id, recipient_org, category from notification.communication group by case_id, recipient_org, category having count(*) > 1) x`,
    ),
  );
  check(
    'statistics: cases identified in the live projection',
    COUNT,
    await one(
      sql`select count(*)::int as n from statistics.case_fact f join statistics.generation g on g.id = f.gen where g.status = 'live' and f.identified_at is not null`,
    ),
  );
  check(
    'statistics: invitations counted in the live projection',
    COUNT * 3,
    await one(
      sql`select count(*)::int as n from statistics.invitation_fact f join statistics.generation g on g.id = f.gen where g.status = 'live'`,
    ),
  );
  const final = await backlog();
  check('outbox rows not yet published', 0, final.outbox);
  check('messages pending in consumers', 0, final.pending);
  let deadLetters = 0;
  for await (const stream of jsm.streams.list()) {
    if (stream.config.name.includes('DEADLETTER')) deadLetters += stream.state.messages;
  }
  check('dead-lettered messages', 0, deadLetters);
  await nc.close();
  await sql.end();

  const sorted = [...latencies].sort((a, b) => a - b);
  console.log('\nFaults injected:');
  for (const f of faultLog) console.log(`  - ${f}`);
  console.log(
    `\nLoad: ${COUNT} initiatives in ${sendSeconds.toFixed(1)} s, ${retries} retries; until stored p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${percentile(sorted, 100).toFixed(0)} ms; quiet ${quietAfter.toFixed(1)} s after.`,
  );
  console.log('\n| Check | Expected | Actual | |\n|---|---|---|---|');
  for (const c of checks)
    console.log(`| ${c.what} | ${c.expected} | ${c.actual} | ${c.ok ? 'ok' : 'FAIL'} |`);
  const pass = checks.every((c) => c.ok);
  if (!pass) printServiceLogs();
  console.log(`\nVERDICT: ${pass ? 'PASS' : 'FAIL'}`);
  return pass;
}

/** Each service's state and last log lines: why a part went away is the first thing a failed run must say. */
function printServiceLogs(): void {
  for (const name of SERVICES) {
    const service = running?.services[name];
    const child = service?.child();
    console.log(
      `\n--- ${name}: ${child && child.exitCode === null ? 'running' : `exited (${child?.exitCode ?? '?'}, ${child?.signalCode ?? ''})`}`,
    );
    for (const line of service?.lines.slice(-15) ?? []) console.log(`  ${line.slice(0, 400)}`);
  }
}

let pass = false;
try {
  pass = await main();
} catch (err) {
  printServiceLogs();
  console.error(`\nVERDICT: FAIL — ${(err as Error).message}`);
} finally {
  for (const name of SERVICES) killing.add(name); // the end of the run, not a crash
  await running?.stop().catch(() => {});
  nats?.kill('SIGTERM');
  try {
    asPostgres('pg_ctl', ['-D', pgData, '-m', 'fast', 'stop']);
  } catch {
    // already stopped
  }
  await agent.close();
  if (!values.keep) rmSync(WORK, { recursive: true, force: true });
}
process.exit(pass ? 0 : 1);
