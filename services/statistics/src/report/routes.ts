// HTTP edges of the statistics service: FHIR Measure/MeasureReport, the JSON and CSV API, all authenticated.
import type { Db } from '@samsyn/db';
import {
  InvalidRequest,
  NotFound,
  type ResourceCapability,
  searchBundle,
  sendBundle,
  sendResource,
} from '@samsyn/fhir';
import { type AppEnv, requireScope } from '@samsyn/platform';
import { Hono } from 'hono';
import { liveGeneration } from '../projection/store.ts';
import { type Filter, parseFilter } from '../query/filter.ts';
import { computeStatistics } from '../query/indicators.ts';
import { type SafeStatistics, suppress } from '../query/suppress.ts';
import { toCsv } from './csv.ts';
import { MEASURE_BASE, MEASURE_IDS, measureDefinition, measureReport, parseReportId } from './measures.ts';

export const capability: ResourceCapability[] = [
  {
    type: 'MeasureReport',
    interactions: ['read', 'search-type'],
    searchParams: [
      { name: 'measure', type: 'reference', documentation: 'Canonical URL or id of the Measure (indicator)' },
      {
        name: 'period',
        type: 'date',
        documentation: 'Range in Europe/Stockholm days, e.g. ge2026-01-01&le2026-12-31',
      },
      {
        name: 'subject',
        type: 'token',
        documentation: 'Organisation unit (HSA-id) the cases were initiated by',
      },
      { name: 'principal', type: 'token', documentation: 'Principal: organisation part of an HSA-id' },
      { name: 'municipality', type: 'token', documentation: 'Four-digit municipality code' },
      { name: 'region', type: 'token', documentation: 'Two-digit county (region) code' },
      { name: 'target-group', type: 'token', documentation: 'child (<18), adult (18–64), older (65+)' },
      { name: 'trigger', type: 'token', documentation: 'discharge or other' },
    ],
    documentation:
      'The SIP funnel and lead times as summary MeasureReports; cells under 5 people are masked.',
  },
  { type: 'Measure', interactions: ['read', 'search-type'], searchParams: [] },
];

export async function statisticsFor(db: Db, filter: Filter): Promise<SafeStatistics> {
  const gen = await liveGeneration(db);
  return suppress(await computeStatistics(db, gen, filter));
}

export function fhirRoutes(db: Db): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/Measure', (c) => {
    requireScope(c.var.auth, 'Measure', 's');
    const resources = MEASURE_IDS.map((id) => measureDefinition(id)).filter((m) => m !== undefined);
    return sendBundle(
      c,
      searchBundle({
        resources,
        total: resources.length,
        requestUrl: c.req.url,
        count: resources.length,
        offset: 0,
      }),
    );
  });
  app.get('/Measure/:id', (c) => {
    requireScope(c.var.auth, 'Measure', 'r');
    const m = measureDefinition(c.req.param('id'));
    if (!m) throw new NotFound('Measure', c.req.param('id'));
    return sendResource(c, m);
  });
  app.get('/MeasureReport/:id', async (c) => {
    requireScope(c.var.auth, 'MeasureReport', 'r');
    const parsed = parseReportId(c.req.param('id'));
    if (!parsed) throw new NotFound('MeasureReport', c.req.param('id'));
    const stats = await statisticsFor(db, parseFilter({ from: parsed.from, to: parsed.to }));
    const indicator = stats.indicators.find((i) => i.id === parsed.measureId);
    if (!indicator) throw new NotFound('MeasureReport', c.req.param('id'));
    return sendResource(c, measureReport(stats, indicator, new Date().toISOString()));
  });
  app.get('/MeasureReport', async (c) => {
    requireScope(c.var.auth, 'MeasureReport', 's');
    const { filter, measures } = fromFhirSearch(new URL(c.req.url).searchParams);
    const stats = await statisticsFor(db, filter);
    const now = new Date().toISOString();
    const reports = stats.indicators
      .filter((i) => !measures || measures.includes(i.id))
      .map((i) => measureReport(stats, i, now));
    const { count, offset } = paging(new URL(c.req.url).searchParams);
    return sendBundle(
      c,
      searchBundle({
        resources: reports.slice(offset, offset + count),
        total: reports.length,
        requestUrl: c.req.url,
        count,
        offset,
      }),
    );
  });
  return app;
}

const FHIR_PARAMS = [
  '_count',
  '_offset',
  'measure',
  'period',
  'subject',
  'principal',
  'municipality',
  'region',
  'target-group',
  'trigger',
];

/** Turns FHIR search parameters into a statistics filter; unknown parameters are an error (SPEC §5). */
export function fromFhirSearch(params: URLSearchParams): { filter: Filter; measures?: string[] } {
  for (const key of params.keys()) {
    if (!FHIR_PARAMS.includes(key))
      throw new InvalidRequest(
        'invalid-parameter',
        `Unknown search parameter '${key}' for MeasureReport; supported: ${FHIR_PARAMS.join(', ')}`,
      );
  }
  let from: string | undefined;
  let to: string | undefined;
  for (const value of params.getAll('period')) {
    const m = /^(ge|le|gt|lt|eq)?(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(value);
    if (!m)
      throw new InvalidRequest(
        'invalid-parameter',
        `MeasureReport period '${value}' must be a date such as ge2026-01-01`,
      );
    const [, prefix = 'eq', y, mo, d] = m;
    const start = `${y}-${mo ?? '01'}-${d ?? '01'}`;
    const end = d ? start : mo ? lastDay(`${y}-${mo}`) : `${y}-12-31`;
    if (prefix === 'ge' || prefix === 'gt' || prefix === 'eq') from = start;
    if (prefix === 'le' || prefix === 'lt' || prefix === 'eq') to = end;
  }
  const subject = params.get('subject');
  const org = subject
    ? subject.replace(/^(urn:oid:1\.2\.752\.29\.4\.19|urn:oid:1\.2\.752\.129\.2\.1\.4\.1)\|/, '')
    : undefined;
  const measures = params
    .getAll('measure')
    .flatMap((v) => v.split(','))
    .map((v) => v.replace(`${MEASURE_BASE}/`, '').replace(/^Measure\//, ''));
  for (const m of measures)
    if (!MEASURE_IDS.includes(m))
      throw new InvalidRequest(
        'invalid-parameter',
        `Unknown measure '${m}'; known: ${MEASURE_IDS.join(', ')}`,
      );
  const raw: Record<string, string | undefined> = {
    from,
    to,
    org,
    principal: params.get('principal') ?? undefined,
    municipality: params.get('municipality') ?? undefined,
    region: params.get('region') ?? undefined,
    ageBand: params.get('target-group') ?? undefined,
    trigger: params.get('trigger') ?? undefined,
  };
  return { filter: parseFilter(raw), ...(measures.length > 0 ? { measures } : {}) };
}

function paging(params: URLSearchParams): { count: number; offset: number } {
  const count = Number(params.get('_count') ?? 50);
  const offset = Number(params.get('_offset') ?? 0);
  if (!Number.isInteger(count) || count < 0 || count > 1000)
    throw new InvalidRequest('invalid-parameter', '_count must be a whole number from 0 to 1000');
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidRequest('invalid-parameter', '_offset must be a whole number of 0 or more');
  return { count, offset };
}

function lastDay(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** /api/statistics (JSON) and /api/statistics.csv; the composer authenticates /api/*. */
export function apiRoutes(db: Db): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/api/statistics', async (c) => {
    requireScope(c.var.auth, 'MeasureReport', 's');
    return c.json(await statisticsFor(db, parseFilter(c.req.query())));
  });
  app.get('/api/statistics.csv', async (c) => {
    requireScope(c.var.auth, 'MeasureReport', 's');
    const stats = await statisticsFor(db, parseFilter(c.req.query()));
    return c.body(toCsv(stats), 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="sip-statistik-${stats.filter.from}-${stats.filter.to}.csv"`,
    });
  });
  return app;
}
