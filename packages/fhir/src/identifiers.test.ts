// Unit tests for Swedish person identifier and HSA-id validation.
import { describe, expect, it } from 'vitest';
import {
  ageAt,
  ageBand,
  checkHsaId,
  checkPersonIdentifier,
  checkPersonnummer,
  checkSamordningsnummer,
  HSA_SYSTEM,
  HSA_SYSTEM_ALT,
  isHsaSystem,
  PERSONNUMMER_SYSTEM,
  SAMORDNINGSNUMMER_SYSTEM,
} from './identifiers.ts';

const NOW = new Date('2026-06-01T12:00:00Z');

// Written from the textbook definition (double every second digit from the right, total divisible by 10) so
// that it does not share a bug with the implementation, which works left to right on the nine digits.
function luhnValid(digits: string): boolean {
  let sum = 0;
  [...digits].reverse().forEach((ch, i) => {
    const n = Number(ch) * (i % 2 === 1 ? 2 : 1);
    sum += Math.floor(n / 10) + (n % 10);
  });
  return sum % 10 === 0;
}

/** Completes YYYYMMDDNNN with the check digit that makes the last ten digits Luhn-valid. */
function withCheckDigit(first11: string): string {
  for (let c = 0; c <= 9; c++) {
    if (luhnValid(first11.slice(2) + c)) return first11 + c;
  }
  throw new Error(`no check digit for ${first11}`);
}

function reasonOf(result: { ok: boolean; reason?: string }): string {
  if (result.ok) throw new Error('expected a rejection');
  return result.reason ?? '';
}

describe('checkPersonnummer', () => {
  it.each([
    ['191212121212', '1912-12-12', 'male'], // Tolvan Tolvansson, Skatteverket's test number
    ['198112189876', '1981-12-18', 'male'],
    ['200001012384', '2000-01-01', 'female'],
  ] as const)('accepts the known valid number %s', (value, birthDate, sex) => {
    expect(checkPersonnummer(value, NOW)).toEqual({ ok: true, value, birthDate, sex });
  });

  it('accepts numbers whose check digit is computed from the Luhn definition', () => {
    for (const first11 of ['19640823323', '19900101001', '20100615998', '18500101000', '20240229246']) {
      const value = withCheckDigit(first11);
      expect(checkPersonnummer(value, NOW)).toMatchObject({ ok: true, value });
    }
  });

  it('rejects every other check digit and names the expected one', () => {
    expect(checkPersonnummer('191212121213', NOW)).toEqual({
      ok: false,
      reason: 'personnummer 191212121213 has a wrong check digit (expected 2)',
    });
    for (let c = 0; c <= 9; c++) {
      if (c === 2) continue;
      expect(reasonOf(checkPersonnummer(`19121212121${c}`, NOW))).toContain('expected 2');
    }
  });

  it('normalises the hyphenated written form to 12 digits', () => {
    expect(checkPersonnummer('19121212-1212', NOW)).toMatchObject({ ok: true, value: '191212121212' });
  });

  it('rejects a hyphen anywhere but between the date and the last four digits', () => {
    expect(reasonOf(checkPersonnummer('1912121-21212', NOW))).toContain('misplaced hyphen');
  });

  it.each(['1212121212', '121212-1212', '121212+1212'])('rejects the 10-digit form %s', (value) => {
    expect(reasonOf(checkPersonnummer(value, NOW))).toContain('12 digits are required');
  });

  it.each(['19121212121X', 'ABCDEFGHIJKL', '19121212 1212', ' 191212121212'])(
    'rejects %j because it contains characters other than digits',
    (value) => {
      expect(reasonOf(checkPersonnummer(value, NOW))).toContain('characters other than digits');
    },
  );

  it('rejects other lengths and an empty value', () => {
    expect(reasonOf(checkPersonnummer('1912121212121', NOW))).toContain('has 13 digits');
    expect(reasonOf(checkPersonnummer('', NOW))).toContain('empty');
  });

  it.each([
    ['19990230', 'February 30'],
    ['20230229', '29 February in a common year'],
    ['19000229', '29 February in 1900, which is not a leap year'],
    ['19991301', 'month 13'],
    ['19990000', 'day 0'],
    ['19990431', '31 April'],
  ])('rejects the date %s (%s) even with a correct check digit', (date) => {
    expect(reasonOf(checkPersonnummer(withCheckDigit(`${date}123`), NOW))).toContain('invalid birth date');
  });

  it('accepts 29 February in leap years', () => {
    expect(checkPersonnummer(withCheckDigit('20240229123'), NOW)).toMatchObject({ birthDate: '2024-02-29' });
    expect(checkPersonnummer(withCheckDigit('20000229123'), NOW)).toMatchObject({ birthDate: '2000-02-29' });
  });

  it('rejects birth dates after today and accepts today', () => {
    expect(reasonOf(checkPersonnummer(withCheckDigit('20260602123'), NOW))).toContain('in the future');
    expect(checkPersonnummer(withCheckDigit('20260601123'), NOW)).toMatchObject({ ok: true });
  });

  it('takes today from the Stockholm calendar rather than UTC', () => {
    // 23:30 UTC on 31 December is already New Year's Day in Stockholm.
    const justAfterMidnightInStockholm = new Date('2025-12-31T23:30:00Z');
    expect(checkPersonnummer(withCheckDigit('20260101123'), justAfterMidnightInStockholm)).toMatchObject({
      ok: true,
    });
  });

  it('rejects birth years before 1850', () => {
    expect(reasonOf(checkPersonnummer(withCheckDigit('18491231123'), NOW))).toContain('before 1850');
  });

  it('derives sex from the second-to-last digit, odd meaning male', () => {
    expect(checkPersonnummer(withCheckDigit('19900101001'), NOW)).toMatchObject({ sex: 'male' });
    expect(checkPersonnummer(withCheckDigit('19900101002'), NOW)).toMatchObject({ sex: 'female' });
  });

  it('rejects a samordningsnummer and points to the samordningsnummer system', () => {
    const reason = reasonOf(checkPersonnummer('197010632391', NOW));
    expect(reason).toContain('looks like a samordningsnummer');
    expect(reason).toContain(SAMORDNINGSNUMMER_SYSTEM);
  });
});

describe('checkSamordningsnummer', () => {
  it('accepts the known valid number 197010632391 and subtracts 60 from the day', () => {
    expect(checkSamordningsnummer('197010632391', NOW)).toEqual({
      ok: true,
      value: '197010632391',
      birthDate: '1970-10-03',
      sex: 'male',
    });
  });

  it('accepts day fields 61 and 91 as the first and the 31st of the month', () => {
    expect(checkSamordningsnummer(withCheckDigit('19800161456'), NOW)).toMatchObject({
      birthDate: '1980-01-01',
    });
    expect(checkSamordningsnummer(withCheckDigit('19800191456'), NOW)).toMatchObject({
      birthDate: '1980-01-31',
    });
  });

  it('normalises the hyphenated written form', () => {
    expect(checkSamordningsnummer('19701063-2391', NOW)).toMatchObject({ ok: true, value: '197010632391' });
  });

  it('rejects a wrong check digit', () => {
    expect(reasonOf(checkSamordningsnummer('197010632392', NOW))).toBe(
      'samordningsnummer 197010632392 has a wrong check digit (expected 1)',
    );
  });

  it('rejects a day that is not a calendar date once 60 is subtracted', () => {
    // 90 - 60 = 30 February.
    expect(reasonOf(checkSamordningsnummer(withCheckDigit('19990290123'), NOW))).toContain(
      'invalid birth date',
    );
  });

  it.each(['32', '60', '92', '00'])('rejects the day field %s, outside 61–91', (day) => {
    expect(reasonOf(checkSamordningsnummer(withCheckDigit(`198001${day}123`), NOW))).toContain('61–91');
  });

  it('rejects a personnummer and points to the personnummer system', () => {
    const reason = reasonOf(checkSamordningsnummer('191212121212', NOW));
    expect(reason).toContain('looks like a personnummer');
    expect(reason).toContain(PERSONNUMMER_SYSTEM);
  });

  it('rejects birth dates in the future', () => {
    // Day field 62 is 2 June, the day after NOW.
    expect(reasonOf(checkSamordningsnummer(withCheckDigit('20260662123'), NOW))).toContain('in the future');
    expect(checkSamordningsnummer(withCheckDigit('20260661123'), NOW)).toMatchObject({
      birthDate: '2026-06-01',
    });
  });
});

describe('checkPersonIdentifier', () => {
  it('dispatches on the identifier system', () => {
    expect(checkPersonIdentifier(PERSONNUMMER_SYSTEM, '191212121212', NOW)).toMatchObject({ ok: true });
    expect(checkPersonIdentifier(SAMORDNINGSNUMMER_SYSTEM, '197010632391', NOW)).toMatchObject({ ok: true });
  });

  it('rejects a value filed under the other system', () => {
    expect(reasonOf(checkPersonIdentifier(PERSONNUMMER_SYSTEM, '197010632391', NOW))).toContain(
      'looks like a samordningsnummer',
    );
    expect(reasonOf(checkPersonIdentifier(SAMORDNINGSNUMMER_SYSTEM, '191212121212', NOW))).toContain(
      'looks like a personnummer',
    );
  });

  it('rejects an unknown system and names both accepted systems', () => {
    const reason = reasonOf(checkPersonIdentifier('urn:oid:1.2.752.129.2.1.3.1', '191212121212', NOW));
    expect(reason).toContain('urn:oid:1.2.752.129.2.1.3.1');
    expect(reason).toContain(PERSONNUMMER_SYSTEM);
    expect(reason).toContain(SAMORDNINGSNUMMER_SYSTEM);
  });
});

describe('HSA-ids', () => {
  it('recognises both HSA systems and nothing else', () => {
    expect(isHsaSystem(HSA_SYSTEM)).toBe(true);
    expect(isHsaSystem(HSA_SYSTEM_ALT)).toBe(true);
    expect(isHsaSystem(PERSONNUMMER_SYSTEM)).toBe(false);
    expect(isHsaSystem(undefined)).toBe(false);
  });

  it.each(['SE2321000032-1001', 'SE2120000415-2001', 'SE2321000016-15CQ', 'SE2321000032-a'])(
    'accepts %s',
    (value) => {
      expect(checkHsaId(value)).toEqual({ ok: true, value });
    },
  );

  it('accepts exactly 31 characters and rejects 32', () => {
    const at31 = `SE2321000032-${'A'.repeat(18)}`;
    expect(at31).toHaveLength(31);
    expect(checkHsaId(at31)).toMatchObject({ ok: true });
    expect(reasonOf(checkHsaId(`${at31}B`))).toContain('at most 31');
  });

  it.each([
    ['se2321000032-1001', 'upper-case "SE"'],
    ['Se2321000032-1001', 'upper-case "SE"'],
    ['2321000032-1001', 'must start with "SE"'],
    ['SE23210000321001', 'no "-"'],
    ['SE232100003-1001', '10-digit organisation number'],
    ['SE23210000321-1001', '10-digit organisation number'],
    ['SE2321000032-', 'nothing after the "-"'],
    ['SE2321000032-10 01', 'letters A–Z and digits'],
    ['SE2321000032-1001-2', 'letters A–Z and digits'],
    ['SE2321000032-Å1', 'letters A–Z and digits'],
    ['', 'empty'],
  ])('rejects %j with a reason mentioning %s', (value, fragment) => {
    expect(reasonOf(checkHsaId(value))).toContain(fragment);
  });
});

describe('ageAt', () => {
  it('counts completed years, turning over on the birthday itself', () => {
    expect(ageAt('2008-06-15', new Date('2026-06-14T12:00:00Z'))).toBe(17);
    expect(ageAt('2008-06-15', new Date('2026-06-15T12:00:00Z'))).toBe(18);
    expect(ageAt('2008-06-15', new Date('2026-06-16T12:00:00Z'))).toBe(18);
  });

  it('uses the date in Stockholm, where the birthday starts an hour or two before it does in UTC', () => {
    // 22:30 UTC on 14 June is 00:30 on 15 June in Stockholm (CEST).
    expect(ageAt('2008-06-15', new Date('2026-06-14T22:30:00Z'))).toBe(18);
    expect(ageAt('2008-06-15', new Date('2026-06-14T21:30:00Z'))).toBe(17);
  });

  it('is 0 on the day of birth and before the first birthday', () => {
    expect(ageAt('2026-01-10', new Date('2026-01-10T12:00:00Z'))).toBe(0);
    expect(ageAt('2026-01-10', new Date('2027-01-09T12:00:00Z'))).toBe(0);
  });

  it('lets someone born on 29 February gain a year on 1 March in common years', () => {
    expect(ageAt('2008-02-29', new Date('2026-02-28T12:00:00Z'))).toBe(17);
    expect(ageAt('2008-02-29', new Date('2026-03-01T12:00:00Z'))).toBe(18);
    expect(ageAt('2008-02-29', new Date('2028-02-29T12:00:00Z'))).toBe(20);
  });

  it('rejects malformed dates, impossible dates and birth dates after the given instant', () => {
    expect(() => ageAt('20080615', NOW)).toThrow(RangeError);
    expect(() => ageAt('2023-02-29', NOW)).toThrow(RangeError);
    expect(() => ageAt('2026-06-02', NOW)).toThrow(RangeError);
  });
});

describe('ageBand', () => {
  it.each([
    [0, 'child'],
    [17, 'child'],
    [18, 'adult'],
    [64, 'adult'],
    [65, 'older'],
    [103, 'older'],
  ] as const)('puts age %i in the %s band', (age, band) => {
    expect(ageBand(age)).toBe(band);
  });

  it('rejects negative and non-finite ages', () => {
    expect(() => ageBand(-1)).toThrow(RangeError);
    expect(() => ageBand(Number.NaN)).toThrow(RangeError);
  });
});
