// The question a statistics caller asks: a period range and grain in Stockholm time, and the dimensions to filter by.
import { InvalidRequest } from '@samsyn/fhir';
import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { today } from '../projection/stockholm.ts';

export const GRAINS = ['day', 'week', 'month', 'year'] as const;
export type Grain = (typeof GRAINS)[number];

const calendarDate = z.iso.date('must be a date YYYY-MM-DD');

export const filterSchema = z
  .object({
    grain: z.enum(GRAINS).default('month'),
    from: calendarDate.optional(),
    to: calendarDate.optional(),
    org: z
      .string()
      .regex(/^SE\d{10}-[A-Za-z0-9]{1,31}$/, 'must be an HSA-id such as SE2321000032-1001')
      .optional(),
    principal: z
      .string()
      .regex(/^SE\d{10}$/, 'must be the organisation part of an HSA-id, such as SE2321000032')
      .optional(),
    municipality: z
      .string()
      .regex(/^\d{4}$/, 'must be a four-digit municipality code such as 0180')
      .optional(),
    region: z
      .string()
      .regex(/^\d{2}$/, 'must be a two-digit county (region) code such as 01')
      .optional(),
    ageBand: z.enum(['child', 'adult', 'older']).optional(),
    trigger: z.enum(['discharge', 'other']).optional(),
  })
  .strict();

export interface Filter {
  grain: Grain;
  from: string;
  to: string;
  org?: string;
  principal?: string;
  municipality?: string;
  region?: string;
  ageBand?: 'child' | 'adult' | 'older';
  trigger?: 'discharge' | 'other';
}

export const FILTER_KEYS = Object.keys(filterSchema.shape) as (keyof Filter)[];

/** Parses query parameters into a filter; an unknown parameter or a bad value is a 400 naming it. */
export function parseFilter(query: Record<string, string | undefined>): Filter {
  const parsed = filterSchema.safeParse(
    Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where =
      issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue?.path.join('.') || 'query';
    throw new InvalidRequest(
      'invalid-parameter',
      `Statistics parameter ${where}: ${issue?.message ?? 'invalid'}. Known parameters: ${FILTER_KEYS.join(', ')}`,
    );
  }
  const now = today();
  const to = parsed.data.to ?? now;
  const from = parsed.data.from ?? `${to.slice(0, 4)}-01-01`;
  if (from > to)
    throw new InvalidRequest('invalid-parameter', `Statistics parameter from (${from}) is after to (${to})`);
  const { from: _f, to: _t, ...rest } = parsed.data;
  return { ...rest, from, to };
}

/** Start (inclusive) and end (exclusive) of the range as instants, Stockholm midnight to midnight. */
export function rangeBounds(f: Filter): { start: SQL; end: SQL } {
  return {
    start: sql`((${f.from}::date)::timestamp at time zone 'Europe/Stockholm')`,
    end: sql`((${f.to}::date + 1)::timestamp at time zone 'Europe/Stockholm')`,
  };
}

/** Conditions on case_fact (alias c) for the case dimensions; `withOrg` false leaves org/principal out. */
export function caseDims(f: Filter, withOrg = true): SQL {
  const parts: SQL[] = [sql`c.identified_at is not null`];
  if (withOrg && f.org) parts.push(sql`c.requester_org = ${f.org}`);
  if (withOrg && f.principal) parts.push(sql`c.principal = ${f.principal}`);
  if (f.municipality) parts.push(sql`c.municipality = ${f.municipality}`);
  if (f.region) parts.push(sql`c.region = ${f.region}`);
  if (f.ageBand) parts.push(sql`c.age_band = ${f.ageBand}`);
  if (f.trigger) parts.push(sql`c.trigger = ${f.trigger}`);
  return sql.join(parts, sql` and `);
}
