// `npm run cost -w @samsyn/bench`: what one full initiative (3 invitees, until all 3 notifications exist) costs,
// counted rather than timed, so the figure holds on a busy machine: SQL statements (round trips) per statement
// from pg_stat_statements, transactions, and CPU milliseconds of the Samsyn process and of PostgreSQL.
// Fewer round trips is the main lever on this box: a CPU profile of Task create showed a fifth of the
// process's time in the socket writes of postgres.js.
// Needs `shared_preload_libraries = 'pg_stat_statements'` on the PostgreSQL server (the script says so if not).
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { waitUntilDrained } from './lib/drained.ts';
import { initiative, WARD } from './lib/initiative.ts';
import { http } from './lib/load.ts';
import { startSamsyn } from './lib/samsyn-process.ts';

const { values } = parseArgs({
  options: {
    initiatives: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '16' },
    top: { type: 'string', default: '40' },
    /** initiative: POST and everything it causes; read: GET Task by id and everything it causes (the audit trail). */
    scenario: { type: 'string', default: 'initiative' },
    /** bundle (what runs in production) or tsx (to compare with a checkout that has no bundle build). */
    runtime: { type: 'string', default: 'bundle' },
  },
});
const n = Number(values.initiatives);
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const [preload] = await admin`select current_setting('shared_preload_libraries') as v`;
if (!String(preload?.v).includes('pg_stat_statements')) {
  console.error(
    'pg_stat_statements is not loaded. Run: psql -U postgres -c "alter system set shared_preload_libraries=\'pg_stat_statements\'" ' +
      'and restart PostgreSQL (pg_ctlcluster --skip-systemctl-redirect 15 main restart).',
  );
  process.exit(2);
}
await admin`create extension if not exists pg_stat_statements`;

const samsyn = await startSamsyn({
  adminUrl,
  natsUrl,
  label: 'qcount',
  runtime: values.runtime === 'tsx' ? 'tsx' : 'bundle',
});
const client = http(samsyn.base, 8);
const app = postgres(samsyn.databaseUrl, { max: 1, onnotice: () => {} });
try {
  const ward = await samsyn.token(WARD);
  const communications = async () =>
    Number((await app`select count(*)::int as n from notification.communication`)[0]?.n ?? 0);
  const unpublished = async () =>
    Number(
      (
        await app`select (select count(*) from invitation.outbox where published_at is null)
          + (select count(*) from consent.outbox where published_at is null)
          + (select count(*) from plan_store.outbox where published_at is null)
          + (select count(*) from notification.outbox where published_at is null)
          + (select count(*) from statistics.outbox where published_at is null) as n`
      )[0]?.n ?? 0,
    );
  const auditEntries = async () =>
    Number((await app`select count(*)::int as n from consent.audit_event`)[0]?.n ?? 0);
  const post = async (i: number) => {
    const res = await client.request('POST', '/fhir/Task', ward, initiative(i, true).body);
    if (res.status !== 201) throw new Error(`POST answered ${res.status}: ${res.text.slice(0, 200)}`);
    return (JSON.parse(res.text) as { id: string }).id;
  };
  // Warm up (first statements, consumers created), then count from zero.
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await post(i));
  await settle(communications, 60);
  const reading = values.scenario === 'read';
  const read = async (i: number) => {
    const res = await client.request('GET', `/fhir/Task/${ids[i % ids.length]}`, ward);
    if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.text.slice(0, 200)}`);
  };
  if (reading) for (let i = 0; i < 20; i++) await read(i);
  const auditBase = await settle(auditEntries, 1);
  const dbName = new URL(samsyn.databaseUrl).pathname.slice(1);
  const oid = (await admin`select oid from pg_database where datname = ${dbName}`)[0]?.oid;
  await admin`select pg_stat_statements_reset()`;
  const [before] = await admin`select xact_commit::bigint as c from pg_stat_database where datid = ${oid}`;
  const cpuBefore = { samsyn: cpuMs([samsyn.pid]), postgres: cpuMs(processesNamed('postgres')) };
  const writesBefore = writeSyscalls(samsyn.pid);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(values.clients) }, async () => {
      while (next < n) {
        const i = next++;
        await (reading ? read(i) : post(1000 + i));
      }
    }),
  );
  // Done when what the operations cause has landed (the notifications, or every read's access-log entry) and
  // every consumer of every service has applied all its events (statistics included), and the outboxes are empty.
  if (reading) await settle(auditEntries, auditBase + n);
  else await settle(communications, 60 + n * 3);
  do {
    await settle(unpublished, 0);
    await waitUntilDrained(natsUrl, samsyn.namespace);
  } while ((await unpublished()) > 0);
  const seconds = (performance.now() - t0) / 1000;
  const samsynMs = cpuMs([samsyn.pid]) - cpuBefore.samsyn;
  const postgresMs = cpuMs(processesNamed('postgres')) - cpuBefore.postgres;
  const writes = writeSyscalls(samsyn.pid) - writesBefore;
  const [after] = await admin`select xact_commit::bigint as c from pg_stat_database where datid = ${oid}`;
  const rows = await admin`
    select calls::bigint as calls, query from pg_stat_statements
    where dbid = ${oid} order by calls desc`;
  const total = rows.reduce((s, r) => s + Number(r.calls), 0);
  console.log(
    `${n} ${reading ? 'reads of a Task by id' : 'initiatives (3 invitees each)'} from ${values.clients} clients, everything they cause in all five services, in ${seconds.toFixed(1)} s (load average ${(await import('node:os')).loadavg()[0]?.toFixed(1)}):`,
  );
  const per = reading ? 'read' : 'initiative';
  console.log(`  CPU Samsyn:     ${(samsynMs / n).toFixed(2)} ms per ${per}`);
  console.log(`  CPU PostgreSQL: ${(postgresMs / n).toFixed(2)} ms per ${per} (all postgres processes)`);
  console.log(
    `  write syscalls of Samsyn: ${(writes / n).toFixed(1)} per ${per} (socket writes to PostgreSQL, NATS and HTTP clients: round trips)`,
  );
  console.log(`  statements: ${total} (${(total / n).toFixed(1)} per ${per})`);
  console.log(
    `  commits:    ${Number(after?.c) - Number(before?.c)} (${((Number(after?.c) - Number(before?.c)) / n).toFixed(1)} per ${per}; includes polling)`,
  );
  console.log(`\nper ${per}  statement`);
  for (const r of rows.slice(0, Number(values.top)))
    console.log(
      `${(Number(r.calls) / n).toFixed(2).padStart(8)}  ${String(r.query).replace(/\s+/g, ' ').slice(0, 150)}`,
    );
} finally {
  await client.close();
  await app.end();
  await samsyn.stop();
  await admin.end();
}

/** Waits until `count` reached `expected` (at most `expected`, when 0) and stopped moving; returns it. */
async function settle(count: () => Promise<number>, expected: number): Promise<number> {
  const end = Date.now() + 120_000;
  let last = -1;
  for (;;) {
    const now = await count();
    if ((expected === 0 ? now === 0 : now >= expected) && now === last) return now;
    if (Date.now() > end) throw new Error(`stuck at ${now}, expected ${expected}`);
    last = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** CPU time (user + system) of the given processes so far, in ms, from /proc. */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** Write system calls the process has made so far (/proc/<pid>/io syscw). */
function writeSyscalls(pid: number): number {
  return Number(/syscw:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? Number.NaN);
}

function processesNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}
