// FHIR date and time primitives: the form FHIR allows, and a date that exists on the calendar.
import { describe, expect, it } from 'vitest';
import { fhirDate, fhirDateTime, fhirInstant } from './datatypes.ts';

describe('FHIR date and time primitives', () => {
  it('accept real dates at every precision FHIR allows', () => {
    for (const v of [
      '2026',
      '2026-11',
      '2026-11-20',
      '2028-02-29',
      '2026-11-20T09:00:00+01:00',
      '2026-11-20T09:00Z',
    ])
      expect(fhirDateTime.safeParse(v).success, v).toBe(true);
    for (const v of ['2026', '2026-02', '2024-02-29']) expect(fhirDate.safeParse(v).success, v).toBe(true);
    expect(fhirInstant.safeParse('2026-12-31T23:59:59.999Z').success).toBe(true);
  });

  it('refuse months and days the calendar does not have, at any precision', () => {
    for (const v of [
      '2026-13-45',
      '2026-13',
      '2026-00',
      '2026-02-29',
      '2026-04-31',
      '2026-02-30T10:00:00Z',
      '2026-11-00T10:00:00+01:00',
      '2026-11-20T25:00:00Z',
    ]) {
      const result = fhirDateTime.safeParse(v);
      expect(result.success, v).toBe(false);
    }
    for (const v of ['2026-13', '2026-02-29', '2026-06-31'])
      expect(fhirDate.safeParse(v).success, v).toBe(false);
    expect(fhirInstant.safeParse('2026-02-30T10:00:00Z').success).toBe(false);
    const refused = fhirDateTime.safeParse('2026-13-45');
    expect(refused.error?.issues[0]?.message).toBe('is not a real date and time');
  });
});
