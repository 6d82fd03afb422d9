// `npm run bench`: measures the machine's raw limits and Samsyn's scenarios in one run, and writes the results to
// bench/results/ as JSON and a markdown table with ratios and targets (issue: "Prove it").
// Options: --seconds N (per measurement, default 10), --rates 50,100,200,500 (open-loop full initiatives/s),
// --read-rate 2000, --only raw,create,full,read,statistics.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { waitUntilDrained } from './lib/drained.ts';
import { InboxWatch } from './lib/inbox-watch.ts';
import { initiative, WARD, watchedUnits } from './lib/initiative.ts';
import { closedLoop, http, openLoop, type Sample } from './lib/load.ts';
import { honoHelloWorld, jetstreamPublishes, postgresInserts } from './lib/raw-limits.ts';
import { startSamsyn } from './lib/samsyn-process.ts';
import { type BenchResults, renderMarkdown } from './report.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rates: { type: 'string', default: '50,100,200,500' },
    'read-rate': { type: 'string', default: '2000' },
    only: { type: 'string', default: 'raw,create,full,read,statistics' },
    out: { type: 'string', default: new URL('../results/', import.meta.url).pathname },
  },
});
const seconds = Number(values.seconds);
const only = new Set((values.only as string).split(','));
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

const results: BenchResults = {
  startedAt: new Date().toISOString(),
  machine: {
    cpus: (await import('node:os')).cpus().length,
    node: process.version,
    secondsPerMeasurement: seconds,
  },
};
const log = (line: string) => console.log(line);

// --- the machine's own limits ------------------------------------------------------------------------------------
if (only.has('raw')) {
  log('raw limits: PostgreSQL single-row insert transactions …');
  const pg = await postgresInserts(adminUrl, seconds);
  log(`  ${pg.perSecond} tx/s (p99 ${pg.latencyMs.p99} ms)`);
  log('raw limits: JetStream async publishes …');
  const js = await jetstreamPublishes(natsUrl, seconds);
  log(`  ${js} msg/s`);
  log('raw limits: Hono hello-world …');
  const hello = await honoHelloWorld(seconds);
  log(`  ${hello.perSecond} req/s (p99 ${hello.latencyMs.p99} ms)`);
  results.raw = { postgresInsertTx: pg, jetstreamPublishPerSecond: js, honoHelloWorld: hello };
}

// --- Samsyn scenarios --------------------------------------------------------------------------------------------
if (['create', 'full', 'read'].some((s) => only.has(s))) {
  const samsyn = await startSamsyn({ adminUrl, natsUrl, label: 'scenarios' });
  let rssMaxMb = samsyn.rssMb();
  const rssTimer = setInterval(() => {
    rssMaxMb = Math.max(rssMaxMb, samsyn.rssMb());
  }, 250);
  const client = http(samsyn.base, 128);
  const ward = await samsyn.token(WARD);
  const db = postgres(samsyn.databaseUrl, { max: 2, onnotice: () => {} });
  const communications = async () =>
    Number((await db`select count(*)::int as n from notification.communication`)[0]?.n ?? 0);
  let serial = 0;
  const post = async (unique: boolean | readonly string[]) => {
    const { body, invitees } = initiative(serial++, unique);
    const res = await client.request('POST', '/fhir/Task', ward, body);
    if (res.status !== 201)
      throw new Error(`POST /fhir/Task answered ${res.status}: ${res.text.slice(0, 200)}`);
    return { id: (JSON.parse(res.text) as { id: string }).id, invitees };
  };
  try {
    const rssIdleMb = samsyn.rssMb();
    results.samsyn = { rssIdleMb };
    if (only.has('create')) {
      log('(a) Task create only, 32 concurrent clients …');
      const a = await closedLoop(seconds, 32, async () => void (await post(false)));
      log(`  ${a.perSecond}/s, p50 ${a.latencyMs.p50} p95 ${a.latencyMs.p95} p99 ${a.latencyMs.p99} ms`);
      results.createOnly = a;
    }
    if (only.has('full')) {
      // Let what (a) caused (notifications, statistics, access log) finish so it does not count against (b).
      await waitUntilDrained(natsUrl, samsyn.namespace);
      log(
        '(b) full initiatives (3 invitees) sustained: POST at full speed, then until every notification exists …',
      );
      const start = performance.now();
      const base = await communications();
      const posted = await closedLoop(seconds, 32, async () => void (await post(true)));
      const expected = base + posted.ok * 3;
      await waitFor(async () => (await communications()) >= expected, 300_000);
      const elapsed = (performance.now() - start) / 1000;
      const sustained = Math.round(posted.ok / elapsed);
      log(
        `  ${posted.ok} initiatives, all ${posted.ok * 3} notifications stored after ${elapsed.toFixed(1)} s: ${sustained}/s`,
      );
      const rates: Record<string, Sample> = {};
      // 60 units' inboxes open (one SSE stream each, as the inbox page holds); each initiative invites 3 of them.
      const units = watchedUnits(60);
      const watch = new InboxWatch(samsyn.base, units, (org) => samsyn.token(org));
      await watch.open();
      for (const rate of (values.rates as string).split(',').map(Number)) {
        await waitUntilDrained(natsUrl, samsyn.namespace);
        log(`(b) POST → all 3 inboxes show it, open loop at ${rate} initiatives/s …`);
        const s = await openLoop(seconds, rate, async (_i, started) => {
          const { id, invitees } = await post(units);
          return (await watch.waitFor(id, invitees)) - started;
        });
        log(
          `  achieved ${s.perSecond}/s, p50 ${s.latencyMs.p50} p95 ${s.latencyMs.p95} p99 ${s.latencyMs.p99} ms, ${s.failed} failed`,
        );
        rates[rate] = s;
        if (s.latencyMs.p99 > 10_000 || s.failed > 0) break; // the box is past saturation; higher rates say nothing
      }
      await watch.close();
      results.fullInitiative = { sustainedPerSecond: sustained, posted, visibleAtRate: rates };
    }
    if (only.has('read')) {
      // Reads measured on a machine still applying (b)'s backlog would measure the backlog.
      await waitUntilDrained(natsUrl, samsyn.namespace);
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) ids.push((await post(false)).id);
      log('(c) read by id, 16 concurrent clients …');
      const byId = await closedLoop(seconds, 16, async (i) => {
        const res = await client.request('GET', `/fhir/Task/${ids[i % ids.length]}`, ward);
        if (res.status !== 200) throw new Error(`read answered ${res.status}`);
      });
      log(`  ${byId.perSecond}/s, p50 ${byId.latencyMs.p50} p99 ${byId.latencyMs.p99} ms`);
      const rate = Number(values['read-rate']);
      log(`(c) read by id at a steady ${rate}/s …`);
      const atRate = await openLoop(seconds, rate, async (i) => {
        const res = await client.request('GET', `/fhir/Task/${ids[i % ids.length]}`, ward);
        if (res.status !== 200) throw new Error(`read answered ${res.status}`);
      });
      log(`  achieved ${atRate.perSecond}/s, p50 ${atRate.latencyMs.p50} p99 ${atRate.latencyMs.p99} ms`);
      log('(c) search Task by business-status and Communication by recipient, 16 concurrent clients …');
      const municipality = await samsyn.token('SE2120000415-2001');
      const search = await closedLoop(seconds, 16, async (i) => {
        const res =
          i % 2 === 0
            ? await client.request('GET', '/fhir/Task?business-status=awaiting-consent&_count=20', ward)
            : await client.request(
                'GET',
                '/fhir/Communication?recipient=SE2120000415-2001&_count=20',
                municipality,
              );
        if (res.status !== 200) throw new Error(`search answered ${res.status}: ${res.text.slice(0, 200)}`);
      });
      log(`  ${search.perSecond}/s, p50 ${search.latencyMs.p50} p99 ${search.latencyMs.p99} ms`);
      results.reads = { byId, atRate: { rate, ...atRate }, search };
    }
    results.samsyn = { rssIdleMb, rssMaxUnderLoadMb: Math.max(rssMaxMb, samsyn.rssMb()) };
    log(
      `RSS: ${rssIdleMb} MB idle, ${(results.samsyn as { rssMaxUnderLoadMb: number }).rssMaxUnderLoadMb} MB max under load`,
    );
  } finally {
    clearInterval(rssTimer);
    await client.close();
    await db.end();
    await samsyn.stop();
  }
}

if (only.has('statistics')) {
  // Scenario (d) lives with the statistics benchmark (1M generated cases); a variable path keeps it optional.
  const modulePath = './statistics-queries.ts';
  const statistics = await import(modulePath).catch(() => undefined);
  if (statistics && 'benchStatistics' in statistics) {
    results.statistics = await (
      statistics as { benchStatistics(o: unknown): Promise<BenchResults['statistics']> }
    ).benchStatistics({
      adminUrl,
      natsUrl,
      seconds,
      log,
    });
  } else {
    log('(d) statistics: no bench/src/statistics-queries.ts yet — skipped');
  }
}

results.finishedAt = new Date().toISOString();
mkdirSync(values.out as string, { recursive: true });
const stamp = (results.startedAt as string).replace(/[:.]/g, '-');
writeFileSync(`${values.out}/bench-${stamp}.json`, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(`${values.out}/latest.json`, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(`${values.out}/latest.md`, renderMarkdown(results));
log(`\nwritten: ${values.out}latest.md and bench-${stamp}.json`);
console.log(renderMarkdown(results));

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
