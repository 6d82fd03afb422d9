// The SIP funnel per period: from the rollups when they cover the filter, else from the facts of the cases it selects.
import type { DbOrTx } from '@samsyn/db';
import { type SQL, sql } from 'drizzle-orm';
import { ROLLUP_GRAINS, type RollupGrain, type RollupScope } from '../projection/case-state.ts';
import { weekStart } from '../projection/stockholm.ts';
import { caseDims, type Filter, monthAligned, rangeBounds } from './filter.ts';

export interface FunnelPeriod {
  period: string;
  stages: Record<string, number>;
}

export interface Funnel {
  source: `rollup-${RollupScope}` | 'facts';
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

/** A stretch of the range read from one grain of a rollup (inclusive calendar dates). */
export interface Piece {
  grain: RollupGrain;
  from: string;
  to: string;
}

/** The rollup scope that answers a filter's dimensions, with its key and parent conditions. */
function rollupScope(f: Filter): { scope: RollupScope; key?: string; parent?: string } | undefined {
  const { org, principal, municipality, region } = f;
  if (!org && !principal && !municipality)
    return region ? { scope: 'region', key: region } : { scope: 'all' };
  if (org && !municipality && !region)
    return { scope: 'org', key: org, ...(principal ? { parent: principal } : {}) };
  if (principal && !org && !municipality)
    return { scope: 'principal', key: principal, ...(region ? { parent: region } : {}) };
  if (municipality && !org && !principal)
    return { scope: 'municipality', key: municipality, ...(region ? { parent: region } : {}) };
  return undefined;
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function lastOfMonth(date: string): string {
  const d = new Date(`${date.slice(0, 7)}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1, 0);
  return d.toISOString().slice(0, 10);
}

/**
 * Splits a range into whole `coarse` periods (weeks or months) and the days at either edge, so a funnel by week or
 * month reads whole periods where it can and days only where the range cuts a period.
 */
export function splitRange(from: string, to: string, coarse: 'week' | 'month'): Piece[] {
  const first =
    coarse === 'week'
      ? from === weekStart(from)
        ? from
        : addDays(weekStart(from), 7)
      : from.endsWith('-01')
        ? from
        : addDays(lastOfMonth(from), 1);
  const lastStart = coarse === 'week' ? weekStart(to) : `${to.slice(0, 7)}-01`;
  const periodEnd = coarse === 'week' ? addDays(lastStart, 6) : lastOfMonth(to);
  const last = periodEnd === to ? to : addDays(lastStart, -1);
  if (first > last) return [{ grain: 'day', from, to }];
  const pieces: Piece[] = [];
  if (from < first) pieces.push({ grain: 'day', from, to: addDays(first, -1) });
  pieces.push({ grain: coarse, from: first, to: last });
  if (last < to) pieces.push({ grain: 'day', from: addDays(last, 1), to });
  return pieces;
}

/** Which grains of a rollup scope answer the filter's range and grain, or undefined when they cannot. */
export function rollupPieces(scope: RollupScope, f: Filter): Piece[] | undefined {
  const grains = ROLLUP_GRAINS[scope];
  const coarse = f.grain === 'day' ? 'day' : f.grain === 'week' ? 'week' : 'month';
  if (coarse === 'day')
    return grains.includes('day') ? [{ grain: 'day', from: f.from, to: f.to }] : undefined;
  if (grains.includes('day')) return splitRange(f.from, f.to, coarse);
  if (coarse === 'month' && grains.includes('month') && monthAligned(f))
    return [{ grain: 'month', from: f.from, to: f.to }];
  return undefined;
}

/** The plan for a filter: a rollup scope and the pieces of the range it reads, or the case facts. */
export function funnelPlan(
  f: Filter,
): { source: 'facts' } | { source: `rollup-${RollupScope}`; scope: RollupScope; pieces: Piece[] } {
  const target = rollupScope(f);
  const pieces = target && rollupPieces(target.scope, f);
  if (!target || !pieces) return { source: 'facts' };
  return { source: `rollup-${target.scope}`, scope: target.scope, pieces };
}

export function funnelSource(f: Filter): Funnel['source'] {
  return funnelPlan(f).source;
}

/** The funnel for a filter; `source: 'facts'` reads the case facts even where a rollup answers (to check one). */
export async function funnel(
  db: DbOrTx,
  gen: number,
  f: Filter,
  options: { source?: 'facts' } = {},
): Promise<Funnel> {
  const plan = options.source === 'facts' ? { source: 'facts' as const } : funnelPlan(f);
  const rows = (await db.execute(
    plan.source === 'facts' ? factsQuery(gen, f) : rollupQuery(gen, f, plan.pieces),
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
  return { source: plan.source, periods, total };
}

function rollupQuery(gen: number, f: Filter, pieces: Piece[]): SQL {
  const target = rollupScope(f);
  if (!target) throw new Error('rollupQuery: no rollup scope answers this filter');
  const common: SQL[] = [sql`gen = ${gen}`, sql`scope = ${target.scope}`, sql`key = ${target.key ?? ''}`];
  if (target.parent) common.push(sql`parent = ${target.parent}`);
  if (f.ageBand) common.push(sql`age_band = ${f.ageBand}`);
  if (f.trigger) common.push(sql`trigger = ${f.trigger}`);
  // One range scan per piece (key first, then period in the primary key).
  const scans = sql.join(
    pieces.map(
      (p) => sql`select stage, period, n from statistics.funnel_rollup
        where ${sql.join(common, sql` and `)} and grain = ${p.grain}
          and period between ${p.from}::date and ${p.to}::date`,
    ),
    sql` union all `,
  );
  return sql`select stage, to_char(date_trunc(${f.grain}, period::timestamp), 'YYYY-MM-DD') as period,
      sum(n)::int as n
    from (${scans}) r
    group by 1, 2 having sum(n) <> 0`;
}

/**
 * The facts path: one pass over the cases the dimension filter selects (index-only, through the covering index of
 * the organisation, principal or municipality), each case unnested into its stage times, so the cost follows the
 * size of the filtered population rather than the number of stages.
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
