// The SIP funnel and every indicator, fed a scripted set of realistic cases over the real bus, with exact numbers.
import type { Measure, MeasureReport } from '@samsyn/fhir';
import { assertValidFhir, type Harness, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveGeneration } from '../src/projection/store.ts';
import { parseFilter } from '../src/query/filter.ts';
import { funnel } from '../src/query/funnel.ts';
import type { Cell, SafeStatistics } from '../src/query/suppress.ts';
import { RATING_QUESTIONNAIRE } from '../src/rating/routes.ts';
import { createStatisticsService } from '../src/service.ts';
import { buildScenario, HOME_CARE, publish, REGION_WARD, SOCIAL } from './support/scenario.ts';
import { appliedEvents, projected, waitForApplied, waitForDrained } from './support/wait.ts';

let h: Harness;
const scenario = buildScenario();
const RATINGS = [5, 4, 4, 3, 5];
let expectedApplied = 0;

beforeAll(async () => {
  h = await startHarness({ label: 'statsfunnel', factories: [createStatisticsService] });
  await publish(h.bus, scenario.script.events);
  expectedApplied = projected(scenario.script.events);
  await waitForApplied(h.database, expectedApplied);
  // Participants rate the five closed cases through the FHIR form; each becomes an event the projection applies.
  for (const [i, caseId] of scenario.closedA.entries()) {
    const res = await h.request('/fhir/QuestionnaireResponse', {
      method: 'POST',
      org: REGION_WARD,
      body: JSON.stringify(ratingResponse(caseId, RATINGS[i] ?? 3)),
    });
    expect(res.status).toBe(201);
  }
  expectedApplied += RATINGS.length;
  await waitForApplied(h.database, expectedApplied);
}, 90_000);
afterAll(async () => h?.stop());

function ratingResponse(caseId: string, rating: number, extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'QuestionnaireResponse',
    status: 'completed',
    questionnaire: RATING_QUESTIONNAIRE,
    subject: { reference: `Task/${caseId}` },
    item: [
      { linkId: 'rating', answer: [{ valueInteger: rating }] },
      { linkId: 'respondent', answer: [{ valueCoding: { code: 'person' } }] },
    ],
    ...extra,
  };
}

async function stats(query: string): Promise<SafeStatistics> {
  const res = await h.request(`/api/statistics?${query}`, { org: HOME_CARE });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as SafeStatistics;
}

const RANGE = 'from=2026-01-01&to=2026-02-28';
const shown = (value: number): Cell => ({ value, suppressed: false });
const hidden: Cell = { value: null, suppressed: true };

function indicator(s: SafeStatistics, id: string) {
  const found = s.indicators.find((i) => i.id === id);
  if (!found) throw new Error(`no indicator ${id}`);
  return found;
}

function periodStages(s: SafeStatistics, period: string) {
  return s.funnel.periods.find((p) => p.period === period)?.stages;
}

describe('the funnel', () => {
  it('counts every stage per Stockholm month, with the 23:30Z case of 31 January counted in February', async () => {
    const s = await stats(`${RANGE}&grain=month`);
    expect(s.funnel.source).toBe('rollup-all');
    expect(periodStages(s, '2026-01-01')).toMatchObject({
      identified: shown(12),
      consented: shown(8),
      invited: shown(8),
      held: shown(8),
      established: shown(8),
      'followed-up': shown(0),
      closed: shown(0),
      cancelled: hidden,
      'cancelled:consent-refused': hidden,
    });
    expect(periodStages(s, '2026-02-01')).toMatchObject({
      identified: shown(6),
      consented: shown(0),
      'followed-up': shown(6),
      closed: shown(5),
      'closed:goals-met': shown(5),
      cancelled: shown(0),
    });
    expect(s.funnel.total).toEqual({
      identified: shown(18),
      consented: shown(8),
      invited: shown(8),
      held: shown(8),
      established: shown(8),
      'followed-up': shown(6),
      closed: shown(5),
      cancelled: hidden,
      'cancelled:consent-refused': hidden,
      'closed:goals-met': shown(5),
    });
  });

  it('gives the same totals from the day, week and month rollups', async () => {
    const byMonth = await stats(`${RANGE}&grain=month`);
    const byWeek = await stats(`${RANGE}&grain=week`);
    const byDay = await stats(`${RANGE}&grain=day`);
    for (const s of [byWeek, byDay]) {
      expect(s.funnel.source).toBe('rollup-all');
      expect(s.funnel.total).toEqual(byMonth.funnel.total);
    }
  });

  it('answers every filter, grain and range from the rollups and stage facts as the case facts do', async () => {
    const gen = await liveGeneration(h.database.db);
    const filters = [
      {},
      { region: '01' },
      { region: '14', ageBand: 'older' },
      { principal: 'SE2321000032' },
      { principal: 'SE2321000032', region: '01' },
      { municipality: '0180' },
      { municipality: '0180', region: '01', trigger: 'discharge' },
      { org: REGION_WARD },
      { org: REGION_WARD, principal: 'SE2321000032' },
      { org: REGION_WARD, principal: 'SE2120000415' },
      { org: REGION_WARD, region: '14' },
      { trigger: 'other' },
    ];
    const ranges = [
      { from: '2026-01-01', to: '2026-02-28' },
      { from: '2026-01-02', to: '2026-02-27' },
      { from: '2026-01-31', to: '2026-02-01' },
      { from: '2025-12-29', to: '2026-03-01' },
    ];
    const sources = new Set<string>();
    for (const dims of filters)
      for (const range of ranges)
        for (const grain of ['day', 'week', 'month', 'year']) {
          const filter = parseFilter({ ...dims, ...range, grain });
          const fromRollups = await funnel(h.database.db, gen, filter);
          const fromFacts = await funnel(h.database.db, gen, filter, { source: 'facts' });
          sources.add(fromRollups.source);
          const label = JSON.stringify(filter);
          expect(fromRollups.periods, label).toEqual(fromFacts.periods);
          expect(fromRollups.total, label).toEqual(fromFacts.total);
        }
    expect([...sources].sort()).toEqual([
      'rollup-all',
      'rollup-municipality',
      'rollup-municipality+stages',
      'rollup-org',
      'rollup-org+stages',
      'rollup-principal',
      'rollup-principal+stages',
      'rollup-region',
      'stages',
    ]);
  });

  it('answers the same from the rollups and from the stage facts for a municipality', async () => {
    const monthly = await stats(`${RANGE}&grain=month&municipality=0180`);
    expect(monthly.funnel.source).toBe('rollup-municipality');
    const weekly = await stats('from=2026-01-02&to=2026-02-28&grain=year&municipality=0180');
    expect(weekly.funnel.source).toBe('rollup-municipality+stages');
    for (const s of [monthly, weekly])
      expect(s.funnel.total).toMatchObject({
        identified: shown(8),
        held: shown(8),
        'followed-up': shown(6),
        closed: shown(5),
        cancelled: shown(0),
      });
  });

  it('filters by region, requesting organisation, principal, target group and trigger', async () => {
    expect((await stats(`${RANGE}&region=14`)).funnel.total.identified).toEqual(shown(6));
    expect((await stats(`${RANGE}&region=01`)).funnel.total.identified).toEqual(shown(12));
    const ward = await stats(`${RANGE}&org=${REGION_WARD}`);
    expect(ward.funnel.source).toBe('rollup-org');
    expect(periodStages(ward, '2026-01-01')?.identified).toEqual(shown(8));
    expect(periodStages(ward, '2026-02-01')?.identified).toEqual(shown(6));
    expect((await stats(`${RANGE}&principal=SE2321000032`)).funnel.total.identified).toEqual(shown(14));
    expect((await stats(`${RANGE}&principal=SE2120000415`)).funnel.total.identified).toEqual(hidden);
    expect((await stats(`${RANGE}&ageBand=child`)).funnel.total).toMatchObject({
      identified: hidden,
      cancelled: hidden,
      held: shown(0),
    });
    expect((await stats(`${RANGE}&ageBand=older&trigger=discharge`)).funnel.total.established).toEqual(
      shown(8),
    );
    expect((await stats(`${RANGE}&trigger=other`)).funnel.total.identified).toEqual(shown(10));
  });

  it('buckets weeks and days in Stockholm time from the stage facts when two dimensions are combined', async () => {
    const s = await stats(`${RANGE}&grain=week&org=${REGION_WARD}&municipality=1480`);
    expect(s.funnel.source).toBe('stages');
    // 2026-02-01 is a Sunday: the boundary case falls in the ISO week starting 26 January, alone (so masked).
    expect(periodStages(s, '2026-01-26')?.identified).toEqual(hidden);
    expect(periodStages(s, '2026-02-09')?.identified).toEqual(shown(5));
    const days = await stats('from=2026-01-31&to=2026-02-01&grain=day&region=14');
    expect(days.funnel.source).toBe('rollup-region');
    expect(days.funnel.periods.map((p) => p.period)).toEqual(['2026-02-01']);
  });
});

describe('the indicators', () => {
  it('gives lead times from initiative to meeting and from meeting to plan as median and 90th percentile', async () => {
    const s = await stats(RANGE);
    const lead = indicator(s, 'sip-lead-time-initiative-to-meeting');
    expect(lead.groups.map((g) => [g.code, g.score])).toEqual([
      ['median', shown(13.5)],
      ['p90', shown(16.3)],
    ]);
    expect(lead.groups[0]?.populations).toEqual([{ code: 'measure-population', count: shown(8) }]);
    const plan = indicator(s, 'sip-lead-time-meeting-to-plan');
    expect(plan.groups.map((g) => g.score)).toEqual([shown(2), shown(2)]);
  });

  it('gives the share of discharge cases summoned within 3 days, of plans shared and of follow-ups on time', async () => {
    const s = await stats(RANGE);
    const pick = (id: string) => indicator(s, id).groups[0];
    expect(pick('sip-discharge-summons-within-3-days')).toMatchObject({
      populations: [
        { code: 'numerator', count: shown(6) },
        { code: 'denominator', count: shown(8) },
      ],
      score: shown(0.75),
    });
    expect(pick('sip-plan-shared-with-person')?.score).toEqual(shown(0.75));
    expect(pick('sip-follow-up-on-time')).toMatchObject({
      populations: [
        { code: 'numerator', count: shown(5) },
        { code: 'denominator', count: shown(6) },
      ],
      score: shown(0.833),
    });
  });

  it('gives response rate, response time, absence and deviations per invited organisation', async () => {
    const s = await stats(RANGE);
    const rate = indicator(s, 'sip-invitation-response-rate').groups[0];
    expect(rate?.score).toEqual(shown(0.361));
    expect(rate?.stratifier?.strata).toEqual([
      {
        value: HOME_CARE,
        populations: [
          { code: 'numerator', count: shown(8) },
          { code: 'denominator', count: shown(18) },
        ],
        score: shown(0.444),
      },
      {
        value: SOCIAL,
        populations: [
          { code: 'numerator', count: shown(5) },
          { code: 'denominator', count: shown(14) },
        ],
        score: shown(0.357),
      },
      {
        value: REGION_WARD,
        populations: [
          { code: 'numerator', count: shown(0) },
          { code: 'denominator', count: hidden },
        ],
        score: hidden,
      },
    ]);
    const time = indicator(s, 'sip-invitation-response-time').groups[0];
    expect(time?.score).toEqual(shown(2));
    expect(time?.stratifier?.strata.map((x) => [x.value, x.score])).toEqual([
      [HOME_CARE, shown(2)],
      [SOCIAL, shown(4)],
      [REGION_WARD, { value: null, suppressed: false }],
    ]);
    const absence = indicator(s, 'sip-absence-rate').groups[0];
    expect(absence?.score).toEqual(shown(0.313));
    expect(absence?.stratifier?.strata.map((x) => [x.value, x.score])).toEqual([
      [HOME_CARE, shown(0.625)],
      [SOCIAL, shown(0)],
    ]);
    const deviations = indicator(s, 'sip-deviations').groups[0];
    expect(deviations?.populations[0]?.count).toEqual(shown(5));
    expect(deviations?.stratifier?.strata).toEqual([
      {
        value: HOME_CARE,
        populations: [{ code: 'initial-population', count: shown(5) }],
        score: { value: null, suppressed: false },
      },
    ]);
  });

  it("gives the participants' mean rating after closure and masks each rating given fewer than 5 times", async () => {
    const s = await stats(RANGE);
    const rating = indicator(s, 'sip-participant-rating').groups[0];
    expect(rating?.score).toEqual(shown(4.2));
    expect(rating?.populations).toEqual([{ code: 'measure-population', count: shown(5) }]);
    expect(rating?.stratifier?.strata.map((x) => [x.value, x.populations[0]?.count])).toEqual([
      ['1', shown(0)],
      ['2', shown(0)],
      ['3', hidden],
      ['4', hidden],
      ['5', hidden],
    ]);
  });
});

describe('replays and outputs', () => {
  it('changes nothing when every event is delivered again', async () => {
    const before = await stats(`${RANGE}&grain=week`);
    const applied = await appliedEvents(h.database);
    await publish(h.bus, scenario.script.events, { msgIdSuffix: '-replay' });
    await waitForDrained(h.bus);
    expect(await appliedEvents(h.database)).toBe(applied);
    expect(await stats(`${RANGE}&grain=week`)).toEqual(before);
  });

  it('serves a valid summary MeasureReport per indicator, with masked cells carrying no count', async () => {
    const res = await h.request(
      '/fhir/MeasureReport?period=ge2026-01-01&period=le2026-02-28&measure=sip-cancelled,sip-identified',
      { org: SOCIAL },
    );
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as { entry: { resource: MeasureReport }[] };
    expect(bundle.entry.map((e) => e.resource.measure)).toEqual([
      'https://samsyn.se/fhir/Measure/sip-identified',
      'https://samsyn.se/fhir/Measure/sip-cancelled',
    ]);
    for (const e of bundle.entry) assertValidFhir(e.resource);
    const [identified, cancelled] = bundle.entry.map((e) => e.resource);
    expect(identified?.period).toEqual({ start: '2026-01-01', end: '2026-02-28' });
    expect(identified?.group?.[0]?.population?.[0]?.count).toBe(18);
    const masked = cancelled?.group?.[0]?.population?.[0];
    expect(masked?.count).toBeUndefined();
    expect(masked?.extension).toEqual([
      { url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' },
    ]);
    expect(JSON.stringify(cancelled)).not.toContain('"count":4');
  });

  it('reads one MeasureReport by id and each Measure definition', async () => {
    const res = await h.request('/fhir/MeasureReport/sip-held--2026-01-01--2026-01-31', { org: SOCIAL });
    expect(res.status).toBe(200);
    const report = (await res.json()) as MeasureReport;
    assertValidFhir(report);
    expect(report.group?.[0]?.population?.[0]?.count).toBe(8);
    const measure = await h.request('/fhir/Measure/sip-lead-time-initiative-to-meeting', { org: SOCIAL });
    expect(measure.status).toBe(200);
    const m = (await measure.json()) as Measure;
    assertValidFhir(m);
    expect(m.title).toBe('Ledtid initiativ till möte (dagar)');
    expect(
      (await h.request('/fhir/MeasureReport/sip-nothing--2026-01-01--2026-01-31', { org: SOCIAL })).status,
    ).toBe(404);
  });

  it('exports CSV with masked cells left empty', async () => {
    const res = await h.request(`/api/statistics.csv?${RANGE}`, { org: SOCIAL });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toBe('section,indicator,period,group,stratum,population,value,unit,suppressed');
    expect(lines).toContain('funnel,sip-identified,2026-02-01,identified,,initial-population,6,,false');
    expect(lines).toContain('funnel,sip-cancelled,2026-01-01,cancelled,,initial-population,,,true');
    expect(lines).toContain(
      'indicator,sip-lead-time-initiative-to-meeting,2026-01-01/2026-02-28,p90,,score,16.3,d,false',
    );
    expect(lines.some((l) => /,[1-4],[^,]*,false$/.test(l) && !l.includes(',score,'))).toBe(false);
  });
});

describe('bad requests and access', () => {
  it('refuses an unknown parameter or a bad value with a 400 OperationOutcome naming it', async () => {
    const res = await h.request('/api/statistics?colour=blue', { org: SOCIAL });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('colour');
    const bad = await h.request('/api/statistics?municipality=18', { org: SOCIAL });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('municipality');
    const fhir = await h.request('/fhir/MeasureReport?colour=blue', { org: SOCIAL });
    expect(fhir.status).toBe(400);
    const reversed = await h.request('/api/statistics?from=2026-03-01&to=2026-01-01', { org: SOCIAL });
    expect(reversed.status).toBe(400);
  });

  it('needs a bearer token for the JSON, CSV and FHIR statistics', async () => {
    for (const path of ['/api/statistics', '/api/statistics.csv', '/fhir/MeasureReport'])
      expect((await h.request(path)).status).toBe(401);
  });

  it('accepts a rating only from a party to a closed case, and only 1–5', async () => {
    const [closed] = scenario.closedA;
    const open = scenario.cases.find((c) => c.group === 'D')?.caseId ?? '';
    const post = (org: string, body: unknown) =>
      h.request('/fhir/QuestionnaireResponse', { method: 'POST', org, body: JSON.stringify(body) });
    expect((await post('SE2321000099-7777', ratingResponse(closed ?? '', 4))).status).toBe(404);
    expect((await post(REGION_WARD, ratingResponse(open, 4))).status).toBe(409);
    expect((await post(REGION_WARD, ratingResponse(closed ?? '', 6))).status).toBe(400);
    expect((await post(REGION_WARD, { resourceType: 'QuestionnaireResponse' })).status).toBe(400);
    const created = await post(HOME_CARE, ratingResponse(closed ?? '', 2));
    expect(created.status).toBe(201);
    const resource = (await created.json()) as { id: string };
    assertValidFhir(resource);
    // Write-only: nobody reads an answer back, not even the unit that sent it.
    expect(created.headers.get('location')).toBeNull();
    expect((await h.request(`/fhir/QuestionnaireResponse/${resource.id}`, { org: HOME_CARE })).status).toBe(
      404,
    );
  });
});
