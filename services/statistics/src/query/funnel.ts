// The SIP funnel per period: from the rollups when they cover the filter, else from the case facts.
import type { DbOrTx } from '@samsyn/db';
import { type SQL, sql } from 'drizzle-orm';
import { caseDims, type Filter, monthAligned, rangeBounds } from './filter.ts';

export interface FunnelPeriod {
  period: string;
  stages: Record<string, number>;
}

export interface Funnel {
  source: 'rollup-day' | 'rollup-org' | 'rollup-municipality' | 'facts';
  periods: FunnelPeriod[];
  total: Record<string, number>;
}

const STAGE_COLUMNS: [string, string][] = [
  ['identified', 'identified_at'],
  ['consented', 'consented_at'],
  ['invited', 'invited_at'],
  ['held', 'held_at'],
  ['established', 'established_at'],
  ['followed-up', 'followed_up_at'],
  ['closed', 'closed_at'],
  ['cancelled', 'cancelled_at'],
];

export function funnelSource(f: Filter): Funnel['source'] {
  const byOrg = Boolean(f.org || f.principal);
  const byMunicipality = Boolean(f.municipality || f.region);
  if (!byOrg && !byMunicipality) return 'rollup-day';
  const monthly = (f.grain === 'month' || f.grain === 'year') && monthAligned(f);
  if (monthly && byOrg && !byMunicipality) return 'rollup-org';
  if (monthly && byMunicipality && !byOrg) return 'rollup-municipality';
  return 'facts';
}

export async function funnel(db: DbOrTx, gen: number, f: Filter): Promise<Funnel> {
  const source = funnelSource(f);
  const rows = (await db.execute(
    source === 'facts' ? factsQuery(gen, f) : rollupQuery(gen, f, source),
  )) as unknown as { stage: string; period: string; n: number }[];
  const byPeriod = new Map<string, Record<string, number>>();
  const total: Record<string, number> = {};
  for (const r of rows) {
    const n = Number(r.n);
    const stages = byPeriod.get(r.period) ?? {};
    stages[r.stage] = (stages[r.stage] ?? 0) + n;
    byPeriod.set(r.period, stages);
    total[r.stage] = (total[r.stage] ?? 0) + n;
  }
  const periods = [...byPeriod.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([period, stages]) => ({ period, stages }));
  return { source, periods, total };
}

function rollupQuery(gen: number, f: Filter, source: Exclude<Funnel['source'], 'facts'>): SQL {
  const parts: SQL[] = [sql`gen = ${gen}`];
  if (source === 'rollup-day') {
    parts.push(sql`grain = 'day' and scope = 'all'`);
  } else if (source === 'rollup-org') {
    parts.push(sql`grain = 'month' and scope = 'org'`);
    if (f.org) parts.push(sql`key = ${f.org}`);
    if (f.principal) parts.push(sql`parent = ${f.principal}`);
  } else {
    parts.push(sql`grain = 'month' and scope = 'municipality'`);
    if (f.municipality) parts.push(sql`key = ${f.municipality}`);
    if (f.region) parts.push(sql`parent = ${f.region}`);
  }
  parts.push(sql`period between ${f.from}::date and ${f.to}::date`);
  if (f.ageBand) parts.push(sql`age_band = ${f.ageBand}`);
  if (f.trigger) parts.push(sql`trigger = ${f.trigger}`);
  return sql`select stage, to_char(date_trunc(${f.grain}, period::timestamp), 'YYYY-MM-DD') as period,
      sum(n)::int as n
    from statistics.funnel_rollup where ${sql.join(parts, sql` and `)}
    group by 1, 2 having sum(n) <> 0`;
}

function factsQuery(gen: number, f: Filter): SQL {
  const { start, end } = rangeBounds(f);
  const dims = caseDims(f);
  const selects = STAGE_COLUMNS.map(([stage, column]) => {
    const col = sql.raw(`c.${column}`);
    const bucket = sql`to_char(date_trunc(${f.grain}, ${col} at time zone 'Europe/Stockholm'), 'YYYY-MM-DD')`;
    const base = sql`from statistics.case_fact c where c.gen = ${gen} and ${col} >= ${start} and ${col} < ${end} and ${dims}`;
    const reasonColumn =
      stage === 'closed' ? 'c.closed_reason' : stage === 'cancelled' ? 'c.cancelled_reason' : undefined;
    const main = sql`select ${stage}::text as stage, ${bucket} as period, count(*)::int as n ${base} group by 2`;
    if (!reasonColumn) return main;
    const reason = sql.raw(reasonColumn);
    return sql`${main} union all select ${`${stage}:`}::text || ${reason} as stage, ${bucket} as period,
      count(*)::int as n ${base} group by 1, 2`;
  });
  return sql.join(selects, sql` union all `);
}
