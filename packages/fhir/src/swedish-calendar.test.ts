// Unit tests for Swedish holidays and working-day deadlines in Europe/Stockholm.
import { describe, expect, it } from 'vitest';
import { addWorkingDays, isWorkingDay, stockholmDate, swedishHolidays } from './swedish-calendar.ts';

/** Stockholm wall-clock time written with its offset, so each test states which side of DST it is on. */
const at = (iso: string): Date => new Date(iso);

describe('swedishHolidays', () => {
  it('lists every 2026 holiday and de facto non-working eve, sorted by date', () => {
    expect(swedishHolidays(2026)).toEqual([
      { date: '2026-01-01', name: 'Nyårsdagen' },
      { date: '2026-01-06', name: 'Trettondedag jul' },
      { date: '2026-04-03', name: 'Långfredagen' },
      { date: '2026-04-05', name: 'Påskdagen' },
      { date: '2026-04-06', name: 'Annandag påsk' },
      { date: '2026-05-01', name: 'Första maj' },
      { date: '2026-05-14', name: 'Kristi himmelsfärdsdag' },
      { date: '2026-05-24', name: 'Pingstdagen' },
      { date: '2026-06-06', name: 'Sveriges nationaldag' },
      { date: '2026-06-19', name: 'Midsommarafton' },
      { date: '2026-06-20', name: 'Midsommardagen' },
      { date: '2026-10-31', name: 'Alla helgons dag' },
      { date: '2026-12-24', name: 'Julafton' },
      { date: '2026-12-25', name: 'Juldagen' },
      { date: '2026-12-26', name: 'Annandag jul' },
      { date: '2026-12-31', name: 'Nyårsafton' },
    ]);
  });

  it('moves the Easter-based and weekday-based holidays in 2027', () => {
    const byName = new Map(swedishHolidays(2027).map((h) => [h.name, h.date]));
    expect(byName.get('Långfredagen')).toBe('2027-03-26');
    expect(byName.get('Påskdagen')).toBe('2027-03-28');
    expect(byName.get('Annandag påsk')).toBe('2027-03-29');
    expect(byName.get('Kristi himmelsfärdsdag')).toBe('2027-05-06');
    expect(byName.get('Pingstdagen')).toBe('2027-05-16');
    expect(byName.get('Midsommarafton')).toBe('2027-06-25');
    expect(byName.get('Midsommardagen')).toBe('2027-06-26');
    expect(byName.get('Alla helgons dag')).toBe('2027-11-06');
  });

  it.each([
    [1818, '1818-03-22'], // earliest possible date
    [1943, '1943-04-25'], // latest possible date
    [2000, '2000-04-23'],
    [2019, '2019-04-21'],
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2038, '2038-04-25'],
    [2285, '2285-03-22'],
  ])('puts Easter Sunday %i on %s', (year, date) => {
    expect(swedishHolidays(year).find((h) => h.name === 'Påskdagen')?.date).toBe(date);
  });

  it('keeps both holidays when Kristi himmelsfärdsdag falls on första maj', () => {
    // Easter 2008 was 23 March, and 23 March + 39 days is 1 May.
    expect(
      swedishHolidays(2008)
        .filter((h) => h.date === '2008-05-01')
        .map((h) => h.name),
    ).toEqual(['Första maj', 'Kristi himmelsfärdsdag']);
  });

  it('always puts the midsommar and alla helgons days on the right weekday and within their window', () => {
    for (let year = 2000; year <= 2100; year++) {
      const byName = new Map(swedishHolidays(year).map((h) => [h.name, h.date]));
      const weekdayOf = (name: string): number => new Date(`${byName.get(name)}T00:00:00Z`).getUTCDay();
      expect(weekdayOf('Midsommarafton')).toBe(5);
      expect(weekdayOf('Midsommardagen')).toBe(6);
      expect(weekdayOf('Alla helgons dag')).toBe(6);
      expect(weekdayOf('Påskdagen')).toBe(0);
      expect(weekdayOf('Pingstdagen')).toBe(0);
      expect(weekdayOf('Långfredagen')).toBe(5);
      expect(weekdayOf('Kristi himmelsfärdsdag')).toBe(4);
      const midsommarafton = byName.get('Midsommarafton') ?? '';
      const allaHelgon = byName.get('Alla helgons dag') ?? '';
      expect(midsommarafton >= `${year}-06-19` && midsommarafton <= `${year}-06-25`).toBe(true);
      expect(allaHelgon >= `${year}-10-31` && allaHelgon <= `${year}-11-06`).toBe(true);
    }
  });

  it('rejects years the Gregorian Easter rule does not cover', () => {
    expect(() => swedishHolidays(1500)).toThrow(RangeError);
    expect(() => swedishHolidays(2026.5)).toThrow(RangeError);
  });
});

describe('stockholmDate', () => {
  it('gives the local date, which differs from the UTC date just before midnight UTC', () => {
    expect(stockholmDate(at('2026-06-14T21:59:59Z'))).toBe('2026-06-14');
    expect(stockholmDate(at('2026-06-14T22:00:00Z'))).toBe('2026-06-15');
    expect(stockholmDate(at('2026-12-31T22:59:59Z'))).toBe('2026-12-31');
    expect(stockholmDate(at('2026-12-31T23:00:00Z'))).toBe('2027-01-01');
  });

  it('rejects an invalid Date', () => {
    expect(() => stockholmDate(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('isWorkingDay', () => {
  it('is true on an ordinary weekday and false at weekends', () => {
    expect(isWorkingDay('2026-12-18')).toBe(true); // Friday
    expect(isWorkingDay('2026-12-19')).toBe(false); // Saturday
    expect(isWorkingDay('2026-12-20')).toBe(false); // Sunday
  });

  it('is false on holidays and de facto non-working eves that fall on weekdays', () => {
    for (const date of ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-14', '2026-06-19', '2026-12-24']) {
      expect(isWorkingDay(date)).toBe(false);
    }
    expect(isWorkingDay('2026-12-31')).toBe(false);
  });

  it('is true on the eves that are ordinary working days', () => {
    expect(isWorkingDay('2026-04-02')).toBe(true); // skärtorsdagen
    expect(isWorkingDay('2026-12-23')).toBe(true);
    expect(isWorkingDay('2026-12-28')).toBe(true); // Monday between Christmas and New Year
  });

  it('rejects strings that are not calendar dates', () => {
    expect(() => isWorkingDay('2026-02-29')).toThrow(RangeError);
    expect(() => isWorkingDay('20261218')).toThrow(RangeError);
  });
});

describe('addWorkingDays', () => {
  it('skips the weekend', () => {
    // Friday 14:00 + 2 working days = Tuesday 14:00.
    expect(addWorkingDays(at('2026-12-18T14:00:00+01:00'), 2)).toEqual(at('2026-12-22T14:00:00+01:00'));
  });

  it('stays on the same day for zero days and moves one day within the week', () => {
    expect(addWorkingDays(at('2026-12-15T09:30:00+01:00'), 0)).toEqual(at('2026-12-15T09:30:00+01:00'));
    expect(addWorkingDays(at('2026-12-15T09:30:00+01:00'), 1)).toEqual(at('2026-12-16T09:30:00+01:00'));
  });

  it('skips julafton, juldagen, annandag jul and the weekend', () => {
    // 24 (Thu), 25 (Fri), 26 (Sat) and 27 (Sun) are not working days; 28 and 29 are.
    expect(addWorkingDays(at('2026-12-23T10:00:00+01:00'), 2)).toEqual(at('2026-12-29T10:00:00+01:00'));
  });

  it('skips nyårsafton, nyårsdagen, the weekend and trettondedag jul into the new year', () => {
    // 31 Dec (Thu), 1 Jan (Fri), 2–3 Jan (weekend) and 6 Jan (Wed) are not working days.
    expect(addWorkingDays(at('2026-12-30T16:45:00+01:00'), 1)).toEqual(at('2027-01-04T16:45:00+01:00'));
    expect(addWorkingDays(at('2026-12-30T16:45:00+01:00'), 3)).toEqual(at('2027-01-07T16:45:00+01:00'));
  });

  it('skips the Easter holidays', () => {
    // Skärtorsdagen 2026-04-02 + 1 jumps over långfredagen, the weekend and annandag påsk.
    expect(addWorkingDays(at('2026-04-02T08:00:00+02:00'), 1)).toEqual(at('2026-04-07T08:00:00+02:00'));
  });

  it('keeps the Stockholm wall-clock time across the spring-forward weekend', () => {
    // Clocks go forward on Sunday 2026-03-29, so Friday 14:00 CET to Monday 14:00 CEST is 71 hours.
    const start = at('2026-03-27T14:00:00+01:00');
    const result = addWorkingDays(start, 1);
    expect(result).toEqual(at('2026-03-30T14:00:00+02:00'));
    expect(result.getTime() - start.getTime()).toBe(71 * 3_600_000);
  });

  it('keeps the Stockholm wall-clock time across the fall-back weekend', () => {
    // Clocks go back on Sunday 2026-10-25, so Friday 09:00 CEST to Monday 09:00 CET is 73 hours.
    const start = at('2026-10-23T09:00:00+02:00');
    expect(addWorkingDays(start, 1)).toEqual(at('2026-10-26T09:00:00+01:00'));
  });

  it('starts counting from Monday when sent on a Saturday', () => {
    // Saturday counts as sent on Monday 2026-12-21 at the same time, so + 2 is Wednesday.
    expect(addWorkingDays(at('2026-12-19T11:00:00+01:00'), 2)).toEqual(at('2026-12-23T11:00:00+01:00'));
    expect(addWorkingDays(at('2026-12-19T11:00:00+01:00'), 0)).toEqual(at('2026-12-21T11:00:00+01:00'));
  });

  it('carries a time from the repeated hour on the fall-back Sunday to the same wall-clock time', () => {
    // 02:30 happens twice on 2026-10-25 (00:30Z in CEST, 01:30Z in CET); both land on 02:30 CET.
    const expected = at('2026-10-27T02:30:00+01:00');
    expect(addWorkingDays(at('2026-10-25T00:30:00Z'), 1)).toEqual(expected);
    expect(addWorkingDays(at('2026-10-25T01:30:00Z'), 1)).toEqual(expected);
  });

  it('uses the Stockholm date, not the UTC date, to decide the starting day', () => {
    // 23:30Z on Friday is 00:30 on Saturday in Stockholm, so counting starts on Monday.
    expect(addWorkingDays(at('2026-12-18T23:30:00Z'), 1)).toEqual(at('2026-12-22T00:30:00+01:00'));
  });

  it('keeps milliseconds', () => {
    expect(addWorkingDays(at('2026-12-18T14:00:00.123+01:00'), 1)).toEqual(
      at('2026-12-21T14:00:00.123+01:00'),
    );
  });

  it('does not depend on the time zone of the process', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'America/Los_Angeles';
      expect(addWorkingDays(at('2026-03-27T14:00:00+01:00'), 1)).toEqual(at('2026-03-30T14:00:00+02:00'));
      expect(stockholmDate(at('2026-06-14T22:00:00Z'))).toBe('2026-06-15');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('rejects negative, fractional and invalid inputs', () => {
    expect(() => addWorkingDays(at('2026-12-18T14:00:00+01:00'), -1)).toThrow(RangeError);
    expect(() => addWorkingDays(at('2026-12-18T14:00:00+01:00'), 1.5)).toThrow(RangeError);
    expect(() => addWorkingDays(new Date(Number.NaN), 1)).toThrow(RangeError);
  });
});

describe('stockholmDate', () => {
  const intl = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Stockholm', dateStyle: 'short' });

  it('agrees with Intl at every minute around the clock changes and the 1900 switch from local mean time', () => {
    const windows = [
      '2026-03-29T00:00:00Z', // spring forward at 01:00 UTC
      '2026-10-25T00:00:00Z', // fall back at 01:00 UTC
      '1980-04-06T00:00:00Z',
      '1916-05-14T21:00:00Z', // the 1916 summer time, switching at 22:00 UTC
      '1899-12-31T21:30:00Z', // local mean time (+01:12:12) ends at 22:47:48 UTC, not a whole hour
    ];
    for (const start of windows) {
      for (let minute = 0; minute < 180; minute++) {
        const instant = new Date(Date.parse(start) + minute * 60_000 + 59_999);
        expect(stockholmDate(instant), instant.toISOString()).toBe(intl.format(instant));
      }
    }
  });

  it('agrees with Intl at random instants from 1890 to 2100', () => {
    const from = Date.parse('1890-01-01T00:00:00Z');
    const to = Date.parse('2100-01-01T00:00:00Z');
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 5000; i++) {
      const instant = new Date(from + Math.floor(random() * (to - from)));
      expect(stockholmDate(instant), instant.toISOString()).toBe(intl.format(instant));
    }
  });
});
