// Renders a bench run as a markdown table: each figure, its ratio to the machine's raw limit, and the target.
import type { Sample } from './lib/load.ts';

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  machine: { cpus: number; node: string; secondsPerMeasurement: number };
  raw?: { postgresInsertTx: Sample; jetstreamPublishPerSecond: number; honoHelloWorld: Sample };
  createOnly?: Sample;
  fullInitiative?: { sustainedPerSecond: number; posted: Sample; visibleAtRate: Record<string, Sample> };
  reads?: { byId: Sample; atRate: Sample & { rate: number }; search: Sample };
  statistics?: { rows?: string[] } & Record<string, unknown>;
  samsyn?: { rssIdleMb: number; rssMaxUnderLoadMb?: number };
}

const fmt = (x: unknown, unit = '') =>
  typeof x === 'number' && Number.isFinite(x) ? `${x.toLocaleString('en-US')}${unit}` : '—';
const ratio = (a: unknown, b: unknown) =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? `${((a / b) * 100).toFixed(1)} %` : '—';
const verdict = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? 'met' : '**missed**');

export function renderMarkdown(r: BenchResults): string {
  const raw = r.raw;
  const pgTx = raw?.postgresInsertTx.perSecond;
  const js = raw?.jetstreamPublishPerSecond;
  const hello = raw?.honoHelloWorld.perSecond;
  const lines: string[] = [];
  lines.push(`# Samsyn benchmark — ${r.startedAt}`, '');
  lines.push(
    `${r.machine?.cpus} cores, Node ${r.machine?.node}, ${r.machine?.secondsPerMeasurement} s per measurement, everything on one box (load generator included).`,
    '',
  );
  lines.push('## The machine’s raw limits (same run)', '', '| Measure | Result |', '|---|---|');
  lines.push(
    `| PostgreSQL single-row insert, one tx each (postgres.js, 64 clients) | ${fmt(pgTx, ' tx/s')} (p99 ${fmt(raw?.postgresInsertTx.latencyMs?.p99, ' ms')}) |`,
  );
  lines.push(`| JetStream publish (async, windows of 1,000) | ${fmt(js, ' msg/s')} |`);
  lines.push(
    `| Hono hello-world (64 connections) | ${fmt(hello, ' req/s')} (p99 ${fmt(raw?.honoHelloWorld.latencyMs?.p99, ' ms')}) |`,
    '',
  );

  lines.push(
    '## Scenarios',
    '',
    '| Scenario | Throughput | p50 | p95 | p99 | Ratio to raw limit | Target | Verdict |',
    '|---|---|---|---|---|---|---|---|',
  );
  const a = r.createOnly;
  if (a) {
    lines.push(
      `| (a) Task create only | ${fmt(a.perSecond, '/s')} | ${fmt(a.latencyMs.p50, ' ms')} | ${fmt(a.latencyMs.p95, ' ms')} | ${fmt(a.latencyMs.p99, ' ms')} | ${ratio(a.perSecond, pgTx)} of PG insert tx/s | ≥ 4,000/s | ${verdict(a.perSecond >= 4000)} |`,
    );
  }
  const b = r.fullInitiative;
  if (b) {
    lines.push(
      `| (b) full initiative, 3 invitees, sustained until all notifications stored | ${fmt(b.sustainedPerSecond, '/s')} | | | | ${ratio(b.sustainedPerSecond, pgTx)} of PG insert tx/s | ≥ 1,000/s | ${verdict(b.sustainedPerSecond >= 1000)} |`,
    );
    for (const [rate, s] of Object.entries(b.visibleAtRate ?? {}) as [string, Sample][]) {
      const target = Number(rate) === 500 ? 'p99 ≤ 250 ms at 500/s' : '';
      lines.push(
        `| (b) POST → visible in all 3 inboxes at ${rate}/s offered | ${fmt(s.perSecond, '/s')} achieved${s.failed ? `, ${s.failed} failed` : ''} | ${fmt(s.latencyMs.p50, ' ms')} | ${fmt(s.latencyMs.p95, ' ms')} | ${fmt(s.latencyMs.p99, ' ms')} | | ${target} | ${target ? verdict(s.latencyMs.p99 <= 250 && !s.failed) : ''} |`,
      );
    }
  }
  const c = r.reads;
  if (c) {
    lines.push(
      `| (c) read Task by id, 16 clients | ${fmt(c.byId.perSecond, '/s')} | ${fmt(c.byId.latencyMs.p50, ' ms')} | ${fmt(c.byId.latencyMs.p95, ' ms')} | ${fmt(c.byId.latencyMs.p99, ' ms')} | ${ratio(c.byId.perSecond, hello)} of hello-world | | |`,
    );
    lines.push(
      `| (c) read Task by id at ${fmt(c.atRate.rate, '/s')} offered | ${fmt(c.atRate.perSecond, '/s')} achieved | ${fmt(c.atRate.latencyMs.p50, ' ms')} | ${fmt(c.atRate.latencyMs.p95, ' ms')} | ${fmt(c.atRate.latencyMs.p99, ' ms')} | | p99 ≤ 5 ms at 2,000/s | ${verdict(c.atRate.latencyMs.p99 <= 5 && c.atRate.perSecond >= 0.98 * c.atRate.rate)} |`,
    );
    lines.push(
      `| (c) searches (Task by state, Communication by recipient), 16 clients | ${fmt(c.search.perSecond, '/s')} | ${fmt(c.search.latencyMs.p50, ' ms')} | ${fmt(c.search.latencyMs.p95, ' ms')} | ${fmt(c.search.latencyMs.p99, ' ms')} | ${ratio(c.search.perSecond, hello)} of hello-world | | |`,
    );
  }
  const d = r.statistics;
  if (d?.rows) for (const row of d.rows) lines.push(row);
  const s = r.samsyn;
  if (s?.rssMaxUnderLoadMb) {
    lines.push(
      `| All-in-one RSS (bundle, PostgreSQL, heap capped at 192 MB old space) | idle ${fmt(s.rssIdleMb, ' MB')}, max under load ${fmt(s.rssMaxUnderLoadMb, ' MB')} | | | | | ≤ 250 MB | ${verdict(s.rssMaxUnderLoadMb <= 250)} |`,
    );
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}
