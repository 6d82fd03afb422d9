// `npm run rebuild-loop -w @samsyn/bench`: rebuilds the statistics projection from one kept JetStream history, again
// and again, and prints where the time went. For profiling the rebuild without re-publishing the history each time.
// Options: --history-cases 40000 --runs 3 --fresh (publish a new history) --read thread|main|alternate; the history
// and database are kept.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Bus } from '@samsyn/bus';
import { openPostgres } from '@samsyn/db';
import { createLogger, processMetrics } from '@samsyn/platform';
import { type AnyProjected, createStatisticsService, rebuild } from '@samsyn/statistics/internals';
import postgres from 'postgres';
import { publishAll } from './bench.ts';
import { caseEvents, geography, prng } from './generate.ts';

const { values } = parseArgs({
  options: {
    'history-cases': { type: 'string', default: '40000' },
    runs: { type: 'string', default: '3' },
    fresh: { type: 'boolean', default: false },
    /** Where to decode the history: `thread` (the default), `main`, or `alternate` (A/B, run by run). */
    read: { type: 'string', default: 'thread' },
  },
});
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const cases = Number(values['history-cases']);
const dbName = `samsyn_bench_rebuild_${cases}`;
const namespace = `benchrebuild${cases}`;

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
if (values.fresh) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
const [exists] = await admin`select 1 as one from pg_database where datname = ${dbName}`;
if (!exists) await admin.unsafe(`create database ${dbName}`);
await admin.end();
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const database = openPostgres({ url: url.toString(), max: 8, applicationName: 'bench-rebuild-loop' });
const log = createLogger({ service: 'bench-rebuild-loop', level: 'warn' });
const bus = await Bus.connect({
  servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  name: 'bench-rebuild-loop',
  namespace,
  log,
});
const service = createStatisticsService({ database, bus, log, metrics: processMetrics(), env: {} });
try {
  if (values.fresh) {
    const prefix = `${namespace.toUpperCase()}_`;
    for await (const si of bus.jsm.streams.list())
      if (si.config.name.startsWith(prefix)) await bus.jsm.streams.delete(si.config.name);
  }
  await bus.ensureStreams();
  await service.migrate();
  let held = 0;
  for await (const si of bus.jsm.streams.list())
    if (si.config.name.startsWith(`${namespace.toUpperCase()}_`)) held += si.state.messages;
  if (held === 0) {
    const rand = prng(42);
    const geo = geography();
    const history: AnyProjected[] = [];
    for (let i = 0; i < cases; i++) history.push(...caseEvents(rand, geo));
    console.log(`publishing ${history.length} events of ${cases} cases…`);
    await publishAll(bus, history);
  }
  for (let run = 1; run <= Number(values.runs); run++) {
    const load = loadavg()[0]?.toFixed(1);
    const onMain = values.read === 'main' || (values.read === 'alternate' && run % 2 === 0);
    const busyBefore = machineBusy();
    let phase = '';
    const r = await rebuild({
      db: database.db,
      bus,
      ...(onMain ? { historyThread: false as const } : {}),
      onProgress: (p) => {
        if (p.phase === phase) return;
        phase = p.phase;
        if (process.env.PHASES) console.log(`  ${new Date().toISOString().slice(11, 23)} ${phase}`);
      },
    });
    const busy = machineBusy();
    const cpu =
      busy !== undefined && busyBefore !== undefined
        ? `; machine CPU ${(busy - busyBefore).toFixed(1)} s`
        : '';
    const rate = (ms: number) => Math.round(r.read / (ms / 1000)).toLocaleString('en-US');
    console.log(
      `run ${run} (load ${load}): ${r.read} events, ${r.cases} cases; read ${Math.round(r.readMs)} ms (${rate(r.readMs)}/s, ${rate(r.readCpuMs)} per CPU-s); write ${Math.round(r.writeMs)} ms (indexes and attach ${Math.round(r.indexMs)} ms); total ${Math.round(r.totalMs)} ms = ${rate(r.totalMs)} events/s end to end (read on ${r.readOn})${cpu}`,
    );
  }
} finally {
  await service.stop().catch(() => {});
  await bus.close();
  await database.close();
}

/**
 * CPU-seconds every process on the machine has used (user and system, from /proc/stat), or undefined where there is no
 * /proc: on a shared box whose speed changes from run to run, the work a rebuild costs says more than its wall time.
 */
function machineBusy(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      ?.trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    if (!fields || fields.length < 8) return undefined;
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return undefined;
  }
}
