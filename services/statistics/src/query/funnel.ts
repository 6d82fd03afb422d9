// The SIP funnel per period: from the rollups when they cover the filter, else from the case facts.
import type { DbOrTx } from '@samsyn/db';
import { type SQL, sql } from 'drizzle-orm';
import { caseDims, type Filter, monthAligned, rangeBounds } from './filter.ts';

export interface FunnelPeriod {
  period: string;
  stages: Record<string, number>;
}

export interface Funnel {
  source: 'rollup-day' | 'rollup-month' | 'rollup-org' | 'rollup-municipality' | 'facts';
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
  const monthly = (f.grain === 'month' || f.grain === 'year') && monthAligned(f);
  if (!byOrg && !byMunicipality) return monthly ? 'rollup-month' : 'rollup-day';
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
  } else if (source === 'rollup-month') {
    parts.push(sql`grain = 'month' and scope = 'all'`);
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

/**
 * The facts path: one pass over the cases the dimension filter selects (via its index), each case unnested into
 * its stage times, so the cost follows the size of the filtered population rather than the number of stages.
 */
function factsQuery(gen: number, f: Filter): SQL {
  const { start, end } = rangeBounds(f);
  const dims = caseDims(f);
  const stages = sql.join(
    [
      ...STAGE_COLUMNS.map(([stage, column]) => sql`(${stage}::text, ${sql.raw(`c.${column}`)})`),
      sql`('closed:' || c.closed_reason, c.closed_at)`,
      sql`('cancelled:' || c.cancelled_reason, c.cancelled_at)`,
    ],
    sql`, `,
  );
  return sql`select s.stage, to_char(date_trunc(${f.grain}, s.at at time zone 'Europe/Stockholm'), 'YYYY-MM-DD') as period,
      count(*)::int as n
    from statistics.case_fact c cross join lateral (values ${stages}) as s(stage, at)
    where c.gen = ${gen} and ${dims} and c.identified_at < ${end} and s.at >= ${start} and s.at < ${end}
    group by 1, 2`;
}
