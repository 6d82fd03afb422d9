// The SIP funnel per period: from the rollups when they cover the filter, else from the facts of the cases it selects.
import type { DbOrTx } from '@samsyn/db';
import { type SQL, sql } from 'drizzle-orm';
import {
  ROLLUP_COUNTS,
  ROLLUP_GRAINS,
  type RollupGrain,
  type RollupScope,
  slotStage,
} from '../projection/case-state.ts';
import { weekStart } from '../projection/stockholm.ts';
import { caseDims, type Filter, rangeBounds } from './filter.ts';

export interface FunnelPeriod {
  period: string;
  stages: Record<string, number>;
}

export interface Funnel {
  /**
   * Where the counts came from: a rollup scope, the stage facts (`stages`), both (whole months from the rollup, the
   * edge days from the stage facts), or the case facts when asked for (the reference the others are checked against).
   */
  source: `rollup-${RollupScope}` | `rollup-${RollupScope}+stages` | 'stages' | 'facts';
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

/** A stretch of the range (inclusive calendar dates) read from one grain of the rollup, or from the stage facts. */
export interface Piece {
  grain: RollupGrain | 'stages';
  from: string;
  to: string;
}

/**
 * The rollup scope that answers a filter's dimensions, with its key and parent conditions. An organisation's principal
 * is part of its id, so an organisation with a principal filter is the organisation (or nothing, if they differ).
 */
function rollupScope(
  f: Filter,
): { scope: RollupScope; key?: string; parent?: string; principalOfKey?: string } | undefined {
  const { org, principal, municipality, region } = f;
  const inRegion = region ? { parent: region } : {};
  if (!org && !principal && !municipality)
    return region ? { scope: 'region', key: region } : { scope: 'all' };
  if (org && !municipality)
    return { scope: 'org', key: org, ...inRegion, ...(principal ? { principalOfKey: principal } : {}) };
  if (principal && !org && !municipality) return { scope: 'principal', key: principal, ...inRegion };
  if (municipality && !org && !principal) return { scope: 'municipality', key: municipality, ...inRegion };
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

/**
 * The pieces that answer a filter: all cases and a region from their rollups at every grain; a principal, municipality
 * or organisation from its month rollup for whole months and its stage facts for the rest; any other combination
 * from the stage facts alone.
 */
export function funnelPieces(f: Filter): { scope?: RollupScope; pieces: Piece[] } {
  const target = rollupScope(f);
  const whole: Piece[] = [{ grain: 'stages', from: f.from, to: f.to }];
  if (!target) return { pieces: whole };
  const grains = ROLLUP_GRAINS[target.scope];
  const dayGrain = grains.includes('day');
  if (f.grain === 'day')
    return dayGrain
      ? { scope: target.scope, pieces: [{ grain: 'day', from: f.from, to: f.to }] }
      : { pieces: whole };
  const coarse = f.grain === 'week' ? 'week' : 'month';
  if (!grains.includes(coarse)) return { pieces: whole };
  const pieces = splitRange(f.from, f.to, coarse).map((p) =>
    p.grain === 'day' && !dayGrain ? { ...p, grain: 'stages' as const } : p,
  );
  if (pieces.every((p) => p.grain === 'stages')) return { pieces: whole };
  return { scope: target.scope, pieces };
}

export function funnelSource(f: Filter): Funnel['source'] {
  const { scope, pieces } = funnelPieces(f);
  if (!scope) return 'stages';
  return pieces.some((p) => p.grain === 'stages') ? `rollup-${scope}+stages` : `rollup-${scope}`;
}

export async function funnel(
  db: DbOrTx,
  gen: number,
  f: Filter,
  options: { source?: 'facts' } = {},
): Promise<Funnel> {
  const source = options.source === 'facts' ? 'facts' : funnelSource(f);
  const rows = (await db.execute(
    source === 'facts' ? factsQuery(gen, f) : piecesQuery(gen, f, funnelPieces(f).pieces),
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

/** Conditions on stage_fact for the case dimensions. */
function stageDims(f: Filter): SQL[] {
  const parts: SQL[] = [];
  if (f.org) parts.push(sql`requester_org = ${f.org}`);
  if (f.principal) parts.push(sql`principal = ${f.principal}`);
  if (f.municipality) parts.push(sql`municipality = ${f.municipality}`);
  if (f.region) parts.push(sql`region = ${f.region}`);
  if (f.ageBand) parts.push(sql`age_band = ${f.ageBand}`);
  if (f.trigger) parts.push(sql`trigger = ${f.trigger}`);
  return parts;
}

/** A rollup row's count columns as (stage, n) rows, named as `stageTimes()` names them. */
const UNPIVOT = sql.raw(
  ROLLUP_COUNTS.map(
    (column, i) =>
      `(case when r.reason = '' then '${slotStage('', i)}' else '${slotStage('', i)}:' || r.reason end, r.${column})`,
  ).join(', '),
);

const SUM_COUNTS = sql.raw(ROLLUP_COUNTS.map((c) => `sum(${c})::int as ${c}`).join(', '));

/** One range scan per piece (a rollup's key then period, or a stage-fact index's dimension then day), summed. */
function piecesQuery(gen: number, f: Filter, pieces: Piece[]): SQL {
  const target = rollupScope(f);
  const scans = sql.join(
    pieces.map((p) => {
      const range = sql`between ${p.from}::date and ${p.to}::date`;
      if (p.grain === 'stages')
        return sql`select stage, day as period, count(*)::int as n from statistics.stage_fact
          where ${sql.join([sql`gen = ${gen}`, ...stageDims(f)], sql` and `)} and day ${range}
          group by stage, day`;
      if (!target) throw new Error('piecesQuery: a rollup piece without a rollup scope');
      const where: SQL[] = [sql`gen = ${gen}`, sql`scope = ${target.scope}`, sql`key = ${target.key ?? ''}`];
      if (target.parent) where.push(sql`parent = ${target.parent}`);
      if (target.principalOfKey) where.push(sql`split_part(key, '-', 1) = ${target.principalOfKey}`);
      if (f.ageBand) where.push(sql`age_band = ${f.ageBand}`);
      if (f.trigger) where.push(sql`trigger = ${f.trigger}`);
      // The rows' counts summed per period and reason, then turned into (stage, n) pairs: the stages, or the
      // closures and cancellations for a reason. Summing first unpivots a few rows per period, not every row read.
      return sql`select s.stage, r.period, s.n from (
          select period, reason, ${SUM_COUNTS} from statistics.funnel_rollup
          where ${sql.join(where, sql` and `)} and grain = ${p.grain} and period ${range}
          group by period, reason
        ) r
        cross join lateral (values ${UNPIVOT}) s(stage, n)
        where s.n <> 0`;
    }),
    sql` union all `,
  );
  return sql`select stage, to_char(date_trunc(${f.grain}, period::timestamp), 'YYYY-MM-DD') as period,
      sum(n)::int as n
    from (${scans}) r
    group by 1, 2 having sum(n) <> 0`;
}

/**
 * The case facts: one pass over the cases the filter selects, each unnested into its stage times and bucketed by
 * PostgreSQL's own Stockholm calendar. Independent of the rollups and stage facts, which tests check against it.
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
