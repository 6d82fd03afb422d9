// Unit tests for search-parameter parsing: unknown parameters, modifiers, paging, OR-values, tokens and dates.
import { describe, expect, it } from 'vitest';
import { type FhirError, InvalidRequest } from './errors.ts';
import { parseDateParam, parseSearch, parseToken, type SearchParamDef } from './search.ts';

const TASK_PARAMS: Record<string, SearchParamDef> = {
  status: { kind: 'token' },
  owner: { kind: 'reference', modifiers: ['identifier'] },
  'authored-on': { kind: 'date' },
};

function q(query: string): URLSearchParams {
  return new URLSearchParams(query);
}

/** Runs `fn`, expecting it to throw an InvalidRequest, and returns the diagnostics of its issues. */
function diagnosticsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequest);
    const e = err as FhirError;
    expect(e.status).toBe(400);
    return e.details.map((d) => d.diagnostics);
  }
  throw new Error('expected an InvalidRequest to be thrown');
}

describe('parseSearch', () => {
  it('returns the parameters and default paging for a valid query', () => {
    expect(parseSearch(q('status=ready&owner:identifier=SE2321000032-1001'), TASK_PARAMS)).toEqual({
      params: [
        { name: 'status', values: ['ready'] },
        { name: 'owner', modifier: 'identifier', values: ['SE2321000032-1001'] },
      ],
      count: 50,
      offset: 0,
    });
  });

  it('refuses an unknown parameter with a 400 that lists the supported ones', () => {
    const problems = diagnosticsOf(() => parseSearch(q('patient=123'), TASK_PARAMS));
    expect(problems).toEqual(["Unknown search parameter 'patient'; supported: authored-on, owner, status"]);
  });

  it('marks the error as an invalid-search OperationOutcome issue', () => {
    try {
      parseSearch(q('patient=123'), TASK_PARAMS);
      expect.unreachable();
    } catch (err) {
      const outcome = (err as FhirError).toOperationOutcome();
      expect(outcome.issue[0]?.code).toBe('invalid');
      expect(outcome.issue[0]?.details?.coding?.[0]?.code).toBe('invalid-search');
    }
  });

  it('reports every problem in one answer rather than only the first', () => {
    const problems = diagnosticsOf(() =>
      parseSearch(q('patient=1&status:text=x&_count=-1&_sort=foo'), TASK_PARAMS, {
        sortable: ['authored-on'],
      }),
    );
    expect(problems).toHaveLength(4);
    expect(problems[0]).toContain("'patient'");
    expect(problems[1]).toBe("Modifier ':text' is not supported on 'status'");
    expect(problems[2]).toBe('_count must be a whole number from 0 to 1000');
    expect(problems[3]).toBe('_sort=foo is not supported; sortable: authored-on');
  });

  it('refuses a value holding a control character instead of passing it to the database', () => {
    expect(() => parseSearch(new URLSearchParams('status=a%00b'), TASK_PARAMS)).toThrow(/control character/);
  });

  it('refuses a modifier the parameter does not declare', () => {
    expect(diagnosticsOf(() => parseSearch(q('owner:missing=true'), TASK_PARAMS))).toEqual([
      "Modifier ':missing' is not supported on 'owner'",
    ]);
  });

  it('accepts _count from 0 up to the maximum', () => {
    expect(parseSearch(q('_count=0'), TASK_PARAMS).count).toBe(0);
    expect(parseSearch(q('_count=20'), TASK_PARAMS, { maxCount: 20 }).count).toBe(20);
  });

  it('refuses a _count above the maximum and names the allowed range', () => {
    expect(diagnosticsOf(() => parseSearch(q('_count=21'), TASK_PARAMS, { maxCount: 20 }))).toEqual([
      '_count must be a whole number from 0 to 20',
    ]);
  });

  it('refuses a negative, fractional or non-numeric _count', () => {
    for (const value of ['-1', '2.5', 'ten']) {
      expect(diagnosticsOf(() => parseSearch(q(`_count=${value}`), TASK_PARAMS))).toEqual([
        '_count must be a whole number from 0 to 1000',
      ]);
    }
  });

  it('refuses an empty _count rather than reading it as a page of zero', () => {
    expect(diagnosticsOf(() => parseSearch(q('_count='), TASK_PARAMS))).toEqual([
      '_count must be a whole number from 0 to 1000',
    ]);
  });

  it('uses the configured default page size when no _count is given', () => {
    expect(parseSearch(q(''), TASK_PARAMS, { defaultCount: 10 }).count).toBe(10);
  });

  it('reads _offset and refuses a negative or empty one', () => {
    expect(parseSearch(q('_offset=40'), TASK_PARAMS).offset).toBe(40);
    for (const value of ['-5', '']) {
      expect(diagnosticsOf(() => parseSearch(q(`_offset=${value}`), TASK_PARAMS))).toEqual([
        '_offset must be a whole number of 0 or more',
      ]);
    }
  });

  it('sorts only by fields the resource declares sortable, ascending or descending', () => {
    const sortable = ['authored-on'];
    expect(parseSearch(q('_sort=authored-on'), TASK_PARAMS, { sortable }).sort).toBe('authored-on');
    expect(parseSearch(q('_sort=-authored-on'), TASK_PARAMS, { sortable }).sort).toBe('-authored-on');
    expect(diagnosticsOf(() => parseSearch(q('_sort=status'), TASK_PARAMS, { sortable }))).toEqual([
      '_sort=status is not supported; sortable: authored-on',
    ]);
  });

  it('says no field is sortable when the resource declares none', () => {
    expect(diagnosticsOf(() => parseSearch(q('_sort=status'), TASK_PARAMS))).toEqual([
      '_sort=status is not supported; sortable: none',
    ]);
  });

  it('reads _total and refuses values other than none, estimate and accurate', () => {
    expect(parseSearch(q('_total=accurate'), TASK_PARAMS).total).toBe('accurate');
    expect(diagnosticsOf(() => parseSearch(q('_total=all'), TASK_PARAMS))).toEqual([
      '_total must be none, estimate or accurate',
    ]);
  });

  it('splits comma-separated values into OR alternatives and keeps repeated parameters apart', () => {
    expect(parseSearch(q('status=ready,in-progress&status=completed'), TASK_PARAMS).params).toEqual([
      { name: 'status', values: ['ready', 'in-progress'] },
      { name: 'status', values: ['completed'] },
    ]);
  });

  it('keeps an escaped comma inside one value', () => {
    expect(parseSearch(q('status=a\\,b,c'), TASK_PARAMS).params).toEqual([
      { name: 'status', values: ['a,b', 'c'] },
    ]);
  });

  it('refuses a parameter with an empty or blank value', () => {
    expect(diagnosticsOf(() => parseSearch(q('status='), TASK_PARAMS))).toEqual([
      "Search parameter 'status' has an empty value",
    ]);
    expect(diagnosticsOf(() => parseSearch(q('status=%20'), TASK_PARAMS))).toEqual([
      "Search parameter 'status' has an empty value",
    ]);
  });

  it('accepts _format=json but refuses XML', () => {
    expect(parseSearch(q('_format=application/fhir%2Bjson'), TASK_PARAMS).params).toEqual([]);
    expect(diagnosticsOf(() => parseSearch(q('_format=xml'), TASK_PARAMS))).toEqual([
      '_format must be json (application/fhir+json); XML is not supported',
    ]);
  });
});

describe('parseToken', () => {
  it('reads system|code into both parts', () => {
    expect(parseToken('http://snomed.info/sct|1234')).toEqual({
      system: 'http://snomed.info/sct',
      code: '1234',
    });
  });

  it('reads |code as a code without a system', () => {
    expect(parseToken('|1234')).toEqual({ code: '1234' });
  });

  it('reads a bare code as a code in any system', () => {
    expect(parseToken('ready')).toEqual({ code: 'ready' });
  });

  it('reads system| as a system with an empty code', () => {
    expect(parseToken('urn:x|')).toEqual({ system: 'urn:x', code: '' });
  });
});

describe('parseDateParam', () => {
  it('makes a year span the whole year', () => {
    expect(parseDateParam('date', '2026')).toEqual({
      prefix: 'eq',
      start: new Date('2026-01-01T00:00:00.000Z'),
      end: new Date('2026-12-31T23:59:59.999Z'),
    });
  });

  it('makes a month span the whole month, including February of a leap year', () => {
    const nov = parseDateParam('date', '2026-11');
    expect(nov.start.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(nov.end.toISOString()).toBe('2026-11-30T23:59:59.999Z');
    expect(parseDateParam('date', '2028-02').end.toISOString()).toBe('2028-02-29T23:59:59.999Z');
  });

  it('makes a December month end on New Year’s Eve', () => {
    expect(parseDateParam('date', '2026-12').end.toISOString()).toBe('2026-12-31T23:59:59.999Z');
  });

  it('takes a time with fractional seconds, as meta.lastUpdated carries it, to the millisecond', () => {
    const t = parseDateParam('_lastUpdated', 'gt2026-11-22T09:52:30.351Z');
    expect(t.start.toISOString()).toBe('2026-11-22T09:52:30.351Z');
    expect(t.end.toISOString()).toBe('2026-11-22T09:52:30.351Z');
    expect(parseDateParam('d', '2026-11-22T10:52:30.35+01:00').start.toISOString()).toBe(
      '2026-11-22T09:52:30.350Z',
    );
  });

  it('makes a day span the whole day', () => {
    const day = parseDateParam('date', '2026-11-22');
    expect(day.start.toISOString()).toBe('2026-11-22T00:00:00.000Z');
    expect(day.end.toISOString()).toBe('2026-11-22T23:59:59.999Z');
  });

  it('makes a time with seconds span that second, honouring its time zone', () => {
    const t = parseDateParam('date', '2026-11-22T10:00:05+01:00');
    expect(t.start.toISOString()).toBe('2026-11-22T09:00:05.000Z');
    expect(t.end.toISOString()).toBe('2026-11-22T09:00:05.999Z');
  });

  it('makes a time without seconds span that minute and read it as UTC when no zone is given', () => {
    const t = parseDateParam('date', '2026-11-22T10:00');
    expect(t.start.toISOString()).toBe('2026-11-22T10:00:00.000Z');
    expect(t.end.toISOString()).toBe('2026-11-22T10:00:59.999Z');
  });

  it('reads the comparison prefix and defaults to eq', () => {
    expect(parseDateParam('date', 'ge2026-01-01').prefix).toBe('ge');
    expect(parseDateParam('date', 'lt2026-11-22T10:00:00Z').prefix).toBe('lt');
    expect(parseDateParam('date', 'sa2026').prefix).toBe('sa');
    expect(parseDateParam('date', '2026-01-01').prefix).toBe('eq');
  });

  it('refuses a value that is not a FHIR date, naming the parameter', () => {
    for (const value of ['yesterday', '26-01-01', 'xx2026', '2026-1-1', '2026-01-01T10']) {
      expect(diagnosticsOf(() => parseDateParam('authored-on', value))).toEqual([
        `authored-on=${value} is not a FHIR date search value (e.g. ge2026-01-01 or lt2026-11-22T10:00:00Z)`,
      ]);
    }
  });

  it('refuses a time that does not exist', () => {
    expect(diagnosticsOf(() => parseDateParam('date', '2026-11-22T25:00:00Z'))).toEqual([
      'date=2026-11-22T25:00:00Z is not a real date',
    ]);
  });

  it('refuses a month or day that does not exist instead of searching a neighbouring one', () => {
    for (const value of ['2026-13', '2026-00', '2026-02-30', '2026-11-31', '2026-02-29T10:00:00Z']) {
      expect(diagnosticsOf(() => parseDateParam('date', value))).toEqual([
        `date=${value} is not a real date`,
      ]);
    }
  });
});
