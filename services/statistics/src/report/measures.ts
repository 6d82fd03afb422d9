// FHIR Measure definitions (one per SIP indicator) and the summary MeasureReports rendered from suppressed figures.
import type { Measure, MeasureReport } from '@samsyn/fhir';
import type { Cell, SafeIndicator, SafeStatistics } from '../query/suppress.ts';

export const MEASURE_BASE = 'https://samsyn.se/fhir/Measure';
const SCORING = 'http://terminology.hl7.org/CodeSystem/measure-scoring';
const POPULATION = 'http://terminology.hl7.org/CodeSystem/measure-population';
const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
const UCUM = 'http://unitsofmeasure.org';
export const GROUP_SYSTEM = 'https://samsyn.se/fhir/CodeSystem/sip-measure-group';

/** Swedish titles (staff-facing) and English descriptions of every indicator. */
export const MEASURE_TEXT: Record<string, { title: string; description: string }> = {
  'sip-identified': {
    title: 'Identifierade SIP',
    description: 'Cases whose initiative was sent in the period.',
  },
  'sip-consented': { title: 'Samtycke givet', description: 'Cases whose consent was given in the period.' },
  'sip-invited': {
    title: 'Kallade/inbjudna',
    description: 'Cases whose invitations went out in the period.',
  },
  'sip-held': {
    title: 'Genomförda SIP-möten',
    description: 'Cases whose first meeting was held in the period.',
  },
  'sip-established': {
    title: 'Upprättade planer',
    description: 'Cases whose plan became active in the period.',
  },
  'sip-followed-up': {
    title: 'Följts upp',
    description: 'Cases whose plan was first followed up in the period.',
  },
  'sip-closed': { title: 'Avslutade', description: 'Cases closed in the period, by reason.' },
  'sip-cancelled': { title: 'Avbrutna', description: 'Cases cancelled in the period, by reason.' },
  'sip-lead-time-initiative-to-meeting': {
    title: 'Ledtid initiativ till möte (dagar)',
    description:
      'Days from initiative to the first held meeting, for meetings held in the period: median and 90th percentile.',
  },
  'sip-lead-time-meeting-to-plan': {
    title: 'Ledtid möte till plan (dagar)',
    description:
      'Days from the first held meeting to the plan becoming active, for plans established in the period.',
  },
  'sip-discharge-summons-within-3-days': {
    title: 'Kallelse inom 3 dagar efter utskrivningsklar',
    description:
      'Share of discharge cases summoned in the period within 3 days of the ready-for-discharge notice.',
  },
  'sip-plan-shared-with-person': {
    title: 'Planen delad med personen',
    description: 'Share of plans established in the period that were shared with the person.',
  },
  'sip-follow-up-on-time': {
    title: 'Uppföljning i tid',
    description: 'Share of follow-ups recorded in the period that were held on or before their due date.',
  },
  'sip-invitation-response-rate': {
    title: 'Svarsfrekvens per inbjuden verksamhet',
    description: 'Share of invitations created in the period that were answered, per invited organisation.',
  },
  'sip-invitation-response-time': {
    title: 'Svarstid per inbjuden verksamhet (timmar)',
    description: 'Median hours from invitation to answer, per invited organisation.',
  },
  'sip-absence-rate': {
    title: 'Frånvaro per verksamhet',
    description: 'Share of recorded meeting attendances that were absences, per organisation.',
  },
  'sip-deviations': {
    title: 'Avvikelser per verksamhet',
    description: 'Deviations reported in the period, per organisation.',
  },
  'sip-participant-rating': {
    title: 'Deltagarnas betyg efter avslut (1–5)',
    description:
      'Mean rating participants gave after closure, for cases closed in the period, with the count of each rating.',
  },
};

const SCORING_OF: Record<string, string> = {
  'sip-lead-time-initiative-to-meeting': 'continuous-variable',
  'sip-lead-time-meeting-to-plan': 'continuous-variable',
  'sip-invitation-response-time': 'continuous-variable',
  'sip-participant-rating': 'continuous-variable',
  'sip-discharge-summons-within-3-days': 'proportion',
  'sip-plan-shared-with-person': 'proportion',
  'sip-follow-up-on-time': 'proportion',
  'sip-invitation-response-rate': 'proportion',
  'sip-absence-rate': 'proportion',
};

const POPULATIONS_OF: Record<string, string[]> = {
  cohort: ['initial-population'],
  proportion: ['initial-population', 'numerator', 'denominator'],
  'continuous-variable': ['initial-population', 'measure-population'],
};

export const MEASURE_IDS = Object.keys(MEASURE_TEXT);

function machineName(id: string): string {
  return id
    .split('-')
    .map((p) => (p[0]?.toUpperCase() ?? '') + p.slice(1))
    .join('');
}

export function measureDefinition(id: string): Measure | undefined {
  const text = MEASURE_TEXT[id];
  if (!text) return undefined;
  const scoring = SCORING_OF[id] ?? 'cohort';
  return {
    resourceType: 'Measure',
    id,
    url: `${MEASURE_BASE}/${id}`,
    version: '1.0.0',
    name: machineName(id),
    title: text.title,
    status: 'active',
    experimental: false,
    publisher: 'Samsyn',
    description: text.description,
    scoring: { coding: [{ system: SCORING, code: scoring }] },
    group: [
      {
        population: (POPULATIONS_OF[scoring] ?? []).map((code) => ({
          code: { coding: [{ system: POPULATION, code }] },
          criteria: { language: 'text/cql', expression: code },
        })),
      },
    ],
  };
}

function masked(): { extension: { url: string; valueCode: string }[] } {
  return { extension: [{ url: DATA_ABSENT, valueCode: 'masked' }] };
}

function population(code: string, count: Cell) {
  return {
    code: { coding: [{ system: POPULATION, code }] },
    ...(count.suppressed ? masked() : { count: count.value ?? 0 }),
  };
}

function score(c: Cell, unit: string | undefined) {
  if (c.suppressed) return masked();
  if (c.value === null) return {};
  return {
    measureScore: {
      value: c.value,
      ...(unit && unit !== '{score}' ? { unit, system: UCUM, code: unit } : {}),
    },
  };
}

/** The summary MeasureReport of one indicator over the filter's whole range. */
export function measureReport(
  stats: SafeStatistics,
  indicator: SafeIndicator,
  generatedAt: string,
): MeasureReport {
  const f = stats.filter;
  const subject = f.org ?? f.principal;
  return {
    resourceType: 'MeasureReport',
    id: reportId(indicator.id, f.from, f.to),
    meta: { versionId: String(stats.generation), lastUpdated: generatedAt },
    status: 'complete',
    type: 'summary',
    measure: `${MEASURE_BASE}/${indicator.id}`,
    date: generatedAt,
    period: { start: f.from, end: f.to },
    ...(subject ? { reporter: { identifier: { system: 'urn:oid:1.2.752.29.4.19', value: subject } } } : {}),
    group: indicator.groups.map((g) => ({
      code: { coding: [{ system: GROUP_SYSTEM, code: g.code }] },
      population: g.populations.map((p) => population(p.code, p.count)),
      ...score(g.score, g.unit),
      ...(g.stratifier
        ? {
            stratifier: [
              {
                code: [{ coding: [{ system: GROUP_SYSTEM, code: g.stratifier.code }] }],
                stratum: g.stratifier.strata.map((s) => ({
                  value: { text: s.value },
                  population: s.populations.map((p) => population(p.code, p.count)),
                  ...score(s.score, g.unit),
                })),
              },
            ],
          }
        : {}),
    })),
  };
}

export function reportId(measureId: string, from: string, to: string): string {
  return `${measureId}--${from}--${to}`;
}

export function parseReportId(id: string): { measureId: string; from: string; to: string } | undefined {
  const m = /^(sip-[a-z0-9-]+?)--(\d{4}-\d{2}-\d{2})--(\d{4}-\d{2}-\d{2})$/.exec(id);
  if (!m?.[1] || !m[2] || !m[3] || !MEASURE_TEXT[m[1]]) return undefined;
  return { measureId: m[1], from: m[2], to: m[3] };
}
