// Every SIP indicator of SPEC §8 for one filter, in one shape that the JSON API, the CSV export and the FHIR
// MeasureReports all render from, so suppression is applied in exactly one place.
import type { DbOrTx } from '@samsyn/db';
import { type SQL, sql } from 'drizzle-orm';
import { STAGES } from '../projection/case-state.ts';
import { caseDims, type Filter, rangeBounds } from './filter.ts';
import { type Funnel, funnel } from './funnel.ts';

export type PopulationCode = 'initial-population' | 'numerator' | 'denominator' | 'measure-population';
export type Scoring = 'cohort' | 'proportion' | 'continuous-variable';
export type Unit = 'd' | 'h' | '1' | '{score}';

export interface Population {
  code: PopulationCode;
  count: number;
}

export interface Stratum {
  value: string;
  populations: Population[];
  score?: number | null;
}

export interface Group {
  code: string;
  populations: Population[];
  score?: number | null;
  unit?: Unit;
  stratifier?: { code: string; strata: Stratum[] };
}

export interface Indicator {
  id: string;
  scoring: Scoring;
  groups: Group[];
}

export interface Statistics {
  filter: Filter;
  generation: number;
  funnel: Funnel;
  indicators: Indicator[];
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const maybe = (v: unknown): number | null => (v === null || v === undefined ? null : round(Number(v)));
function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
const share = (numerator: number, denominator: number): number | null =>
  denominator > 0 ? round(numerator / denominator) : null;

async function one<T>(db: DbOrTx, q: SQL): Promise<T> {
  const rows = (await db.execute(q)) as unknown as T[];
  return rows[0] as T;
}

export async function computeStatistics(db: DbOrTx, gen: number, f: Filter): Promise<Statistics> {
  const { start, end } = rangeBounds(f);
  const dims = caseDims(f);
  const f1 = await funnel(db, gen, f);
  const indicators: Indicator[] = [];

  for (const stage of STAGES) {
    const group: Group = {
      code: stage,
      populations: [{ code: 'initial-population', count: f1.total[stage] ?? 0 }],
    };
    if (stage === 'closed' || stage === 'cancelled') {
      const strata = Object.entries(f1.total)
        .filter(([k]) => k.startsWith(`${stage}:`))
        .map(([k, n]) => ({
          value: k.slice(stage.length + 1),
          populations: [{ code: 'initial-population' as const, count: n }],
        }))
        .sort((a, b) => a.value.localeCompare(b.value));
      group.stratifier = { code: 'reason', strata };
    }
    indicators.push({ id: `sip-${stage}`, scoring: 'cohort', groups: [group] });
  }

  const lead = (from: string, to: string) =>
    one<{ n: number; median: number | null; p90: number | null }>(
      db,
      sql`select count(*)::int as n,
        percentile_cont(0.5) within group (order by extract(epoch from ${sql.raw(to)} - ${sql.raw(from)}) / 86400) as median,
        percentile_cont(0.9) within group (order by extract(epoch from ${sql.raw(to)} - ${sql.raw(from)}) / 86400) as p90
      from statistics.case_fact c where c.gen = ${gen} and ${sql.raw(to)} >= ${start} and ${sql.raw(to)} < ${end}
        and ${sql.raw(from)} is not null and ${dims}`,
    );
  for (const [id, from, to] of [
    ['sip-lead-time-initiative-to-meeting', 'c.identified_at', 'c.held_at'],
    ['sip-lead-time-meeting-to-plan', 'c.held_at', 'c.established_at'],
  ] as const) {
    const r = await lead(from, to);
    const populations: Population[] = [{ code: 'measure-population', count: num(r.n) }];
    indicators.push({
      id,
      scoring: 'continuous-variable',
      groups: [
        { code: 'median', populations, score: maybe(r.median), unit: 'd' },
        { code: 'p90', populations, score: maybe(r.p90), unit: 'd' },
      ],
    });
  }

  // Lag 2017:612: the summons within 3 days of the ready-for-discharge notice; without a notice time the
  // initiative counts as the notice, as the invitation service's deadline does.
  const summons = await one<{ n: number; within: number }>(
    db,
    sql`select count(*)::int as n,
      count(*) filter (where c.invited_at <= coalesce(c.discharge_ready_at, c.identified_at) + interval '3 days')::int as within
    from statistics.case_fact c where c.gen = ${gen} and c.trigger = 'discharge'
      and c.invited_at >= ${start} and c.invited_at < ${end} and ${dims}`,
  );
  indicators.push(
    proportion('sip-discharge-summons-within-3-days', 'within-3-days', summons.within, summons.n),
  );

  const shared = await one<{ n: number; shared: number }>(
    db,
    sql`select count(*)::int as n, count(c.shared_at)::int as shared from statistics.case_fact c
      where c.gen = ${gen} and c.established_at >= ${start} and c.established_at < ${end} and ${dims}`,
  );
  indicators.push(proportion('sip-plan-shared-with-person', 'shared', shared.shared, shared.n));

  const followUps = await one<{ n: number; on_time: number }>(
    db,
    sql`select count(*)::int as n, count(*) filter (where u.on_time)::int as on_time
      from statistics.follow_up_fact u join statistics.case_fact c on c.gen = u.gen and c.case_id = u.case_id
      where u.gen = ${gen} and u.at >= ${start} and u.at < ${end} and ${dims}`,
  );
  indicators.push(proportion('sip-follow-up-on-time', 'on-time', followUps.on_time, followUps.n));

  indicators.push(...(await perOrganisation(db, gen, f)));

  // A rating belongs to the period its case was closed in, whenever the participant answered.
  const ratings = (await db.execute(
    sql`select r.rating, count(*)::int as n from statistics.rating_fact r
      join statistics.case_fact c on c.gen = r.gen and c.case_id = r.case_id
      where r.gen = ${gen} and c.closed_at >= ${start} and c.closed_at < ${end} and ${dims}
      group by r.rating order by r.rating`,
  )) as unknown as { rating: number; n: number }[];
  const ratingCount = ratings.reduce((a, r) => a + num(r.n), 0);
  const ratingSum = ratings.reduce((a, r) => a + num(r.rating) * num(r.n), 0);
  indicators.push({
    id: 'sip-participant-rating',
    scoring: 'continuous-variable',
    groups: [
      {
        code: 'mean',
        populations: [{ code: 'measure-population', count: ratingCount }],
        score: ratingCount > 0 ? round(ratingSum / ratingCount) : null,
        unit: '{score}',
        stratifier: {
          code: 'rating',
          strata: [1, 2, 3, 4, 5].map((value) => ({
            value: String(value),
            populations: [
              {
                code: 'measure-population' as const,
                count: num(ratings.find((r) => num(r.rating) === value)?.n),
              },
            ],
          })),
        },
      },
    ],
  });

  return { filter: f, generation: gen, funnel: f1, indicators };
}

function proportion(id: string, code: string, numerator: number, denominator: number): Indicator {
  return {
    id,
    scoring: 'proportion',
    groups: [
      {
        code,
        populations: [
          { code: 'numerator', count: num(numerator) },
          { code: 'denominator', count: num(denominator) },
        ],
        score: share(num(numerator), num(denominator)),
        unit: '1',
      },
    ],
  };
}

/**
 * Per invited organisation: response rate, median response time, absence rate and deviations. Here org and
 * principal select the invited (or deviating) organisation; the other dimensions select the cases.
 */
async function perOrganisation(db: DbOrTx, gen: number, f: Filter): Promise<Indicator[]> {
  const { start, end } = rangeBounds(f);
  const dims = caseDims(f, false);
  const orgParts = (alias: string): SQL => {
    const parts: SQL[] = [sql`true`];
    if (f.org) parts.push(sql`${sql.raw(`${alias}.org`)} = ${f.org}`);
    if (f.principal) parts.push(sql`split_part(${sql.raw(`${alias}.org`)}, '-', 1) = ${f.principal}`);
    return sql.join(parts, sql` and `);
  };
  const rows = (await db.execute(
    sql`select i.org, count(*)::int as invited, count(i.responded_at)::int as responded,
        percentile_cont(0.5) within group (order by extract(epoch from i.responded_at - i.created_at) / 3600)
          filter (where i.responded_at is not null) as median_hours,
        count(i.attended)::int as recorded, count(*) filter (where i.attended = false)::int as absent
      from statistics.invitation_fact i join statistics.case_fact c on c.gen = i.gen and c.case_id = i.case_id
      where i.gen = ${gen} and i.created_at >= ${start} and i.created_at < ${end} and ${dims} and ${orgParts('i')}
      group by rollup (i.org) order by i.org nulls first`,
  )) as unknown as {
    org: string | null;
    invited: number;
    responded: number;
    median_hours: number | null;
    recorded: number;
    absent: number;
  }[];
  const deviations = (await db.execute(
    sql`select d.org, count(*)::int as n
      from statistics.deviation_fact d join statistics.case_fact c on c.gen = d.gen and c.case_id = d.case_id
      where d.gen = ${gen} and d.at >= ${start} and d.at < ${end} and ${dims} and ${orgParts('d')}
      group by rollup (d.org) order by d.org nulls first`,
  )) as unknown as { org: string | null; n: number }[];
  const total = rows.find((r) => r.org === null);
  const byOrg = rows.filter((r) => r.org !== null);
  const responseRate: Indicator = {
    id: 'sip-invitation-response-rate',
    scoring: 'proportion',
    groups: [
      {
        code: 'responded',
        populations: pops(num(total?.responded), num(total?.invited)),
        score: share(num(total?.responded), num(total?.invited)),
        unit: '1',
        stratifier: {
          code: 'organisation',
          strata: byOrg.map((r) => ({
            value: r.org as string,
            populations: pops(num(r.responded), num(r.invited)),
            score: share(num(r.responded), num(r.invited)),
          })),
        },
      },
    ],
  };
  const responseTime: Indicator = {
    id: 'sip-invitation-response-time',
    scoring: 'continuous-variable',
    groups: [
      {
        code: 'median',
        populations: [{ code: 'measure-population', count: num(total?.responded) }],
        score: maybe(total?.median_hours),
        unit: 'h',
        stratifier: {
          code: 'organisation',
          strata: byOrg.map((r) => ({
            value: r.org as string,
            populations: [{ code: 'measure-population' as const, count: num(r.responded) }],
            score: maybe(r.median_hours),
          })),
        },
      },
    ],
  };
  const absence: Indicator = {
    id: 'sip-absence-rate',
    scoring: 'proportion',
    groups: [
      {
        code: 'absent',
        populations: pops(num(total?.absent), num(total?.recorded)),
        score: share(num(total?.absent), num(total?.recorded)),
        unit: '1',
        stratifier: {
          code: 'organisation',
          strata: byOrg
            .filter((r) => num(r.recorded) > 0)
            .map((r) => ({
              value: r.org as string,
              populations: pops(num(r.absent), num(r.recorded)),
              score: share(num(r.absent), num(r.recorded)),
            })),
        },
      },
    ],
  };
  const deviationTotal = deviations.find((d) => d.org === null);
  const deviation: Indicator = {
    id: 'sip-deviations',
    scoring: 'cohort',
    groups: [
      {
        code: 'deviations',
        populations: [{ code: 'initial-population', count: num(deviationTotal?.n) }],
        stratifier: {
          code: 'organisation',
          strata: deviations
            .filter((d) => d.org !== null)
            .map((d) => ({
              value: d.org as string,
              populations: [{ code: 'initial-population' as const, count: num(d.n) }],
            })),
        },
      },
    ],
  };
  return [responseRate, responseTime, absence, deviation];
}

function pops(numerator: number, denominator: number): Population[] {
  return [
    { code: 'numerator', count: numerator },
    { code: 'denominator', count: denominator },
  ];
}
