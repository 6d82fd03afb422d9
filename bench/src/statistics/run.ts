// `npm run statistics -w @samsyn/bench`: the statistics benchmark on its own; writes bench/results/statistics.md
// and .json. Options: --cases 1000000 --history-cases 40000 --queries 40 --live-events 30 --keep-database.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runStatisticsBench } from './bench.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    'history-cases': { type: 'string', default: '40000' },
    queries: { type: 'string', default: '40' },
    'live-events': { type: 'string', default: '30' },
    'keep-database': { type: 'boolean', default: false },
    out: { type: 'string', default: new URL('../../results/', import.meta.url).pathname },
  },
});

const startedAt = new Date().toISOString();
const result = await runStatisticsBench({
  adminUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  cases: Number(values.cases),
  historyCases: Number(values['history-cases']),
  queriesPerKind: Number(values.queries),
  liveEvents: Number(values['live-events']),
  keepDatabase: values['keep-database'],
  log: (line) => console.log(line),
});
const machine = { cpus: (await import('node:os')).cpus().length, node: process.version };
const out = values.out as string;
mkdirSync(out, { recursive: true });
writeFileSync(
  `${out}/statistics.json`,
  `${JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), machine, ...result }, null, 2)}\n`,
);
const md = [
  '# Statistics benchmark (issue 6)',
  '',
  `Run ${startedAt} on ${machine.cpus} CPUs (1-minute load average ${result.loadAverage.start} at the start, ${result.loadAverage.end} at the end), Node ${machine.node}, local PostgreSQL and nats-server -js. Reproduce with`,
  '`npm run statistics -w @samsyn/bench` (PostgreSQL and NATS as for `npm test`).',
  '',
  `- History: ${result.history.events.toLocaleString('en-US')} events of ${result.history.cases.toLocaleString('en-US')} generated cases, published at ${result.history.publishPerSecond.toLocaleString('en-US')} events/s.`,
  `- Rebuild: read, validated and folded at ${result.rebuild.readEventsPerSecond.toLocaleString('en-US')} events/s wall clock, ${result.rebuild.readEventsPerCpuSecond.toLocaleString('en-US')} events per CPU-second; ${result.rebuild.endToEndEventsPerSecond.toLocaleString('en-US')} events/s including the bulk write of the new generation (${result.rebuild.writeSeconds} s) and the swap (${result.rebuild.totalSeconds} s in all; the median of rebuilds taking ${result.rebuild.runsSeconds.join(', ')} s, the first one in the process first).`,
  `- Query data: ${result.bulkWrite.cases.toLocaleString('en-US')} more generated cases folded like the projection does and written with their stage facts and rollups in ${result.bulkWrite.seconds} s (${result.bulkWrite.casesPerSecond.toLocaleString('en-US')} cases/s); ${result.cases.toLocaleString('en-US')} cases in all.`,
  '- Funnel queries: every dimension shape at every grain (see `queryKinds` in `bench/src/statistics/bench.ts`), each range starting on a random day, a random target group and trigger half of the time; the first three queries of a kind warm the caches and are not counted. The source column names what answered (`rollup-<scope>`, `stages` for the stage facts, both for whole months plus edge days).',
  '',
  '| Scenario | Throughput | p50 | p95 | p99 | | Target | Verdict |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...result.rows,
  '',
].join('\n');
writeFileSync(`${out}/statistics.md`, md);
console.log(`\nwritten: ${out}statistics.md and statistics.json`);
