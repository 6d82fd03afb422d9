// Calendar dates in Europe/Stockholm: statistics periods follow the Swedish wall clock, not UTC (SPEC §8).
const formatter = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Stockholm',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

const HOUR = 3_600_000;
/**
 * Stockholm dates per UTC hour: Stockholm's offset is whole hours, so every instant of one UTC hour falls on the
 * same Stockholm date. Folding a million cases asks for ten million dates; Intl answers each in microseconds.
 */
const byHour = new Map<number, string>();

/**
 * The same per UTC hour written out (`2026-01-31T23`), for instants in UTC (`…Z`), the way events carry them, keyed
 * by the hour's digits read as one number: a lookup that skips parsing the date (most of the time of a cached answer)
 * and hashing a string.
 */
const byHourText = new Map<number, string>();

/** The Stockholm calendar date (YYYY-MM-DD) of an instant: 2026-01-31T23:30Z is 2026-02-01. */
export function stockholmDate(instant: string | Date): string {
  if (typeof instant === 'string') {
    const hour = utcHourDigits(instant);
    if (hour >= 0) {
      let date = byHourText.get(hour);
      if (date === undefined) {
        date = dateOf(Date.parse(instant));
        if (byHourText.size > 200_000) byHourText.clear();
        byHourText.set(hour, date);
      }
      return date;
    }
  }
  return dateOf(typeof instant === 'string' ? Date.parse(instant) : instant.getTime());
}

/**
 * For `YYYY-MM-DDTHH:…Z` (an instant in UTC whose first 13 characters name its hour), the number YYYYMMDDHH;
 * otherwise -1.
 */
function utcHourDigits(s: string): number {
  if (
    s.length < 17 ||
    s.charCodeAt(s.length - 1) !== 90 /* Z */ ||
    s.charCodeAt(4) !== 45 /* - */ ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 /* T */ ||
    s.charCodeAt(13) !== 58 /* : */
  )
    return -1;
  let n = 0;
  for (const i of HOUR_DIGITS) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Where the digits of year, month, day and hour are in `YYYY-MM-DDTHH`. */
const HOUR_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12] as const;

function dateOf(ms: number): string {
  const hour = Math.floor(ms / HOUR);
  let date = byHour.get(hour);
  if (date === undefined) {
    date = formatter.format(new Date(hour * HOUR));
    if (byHour.size > 200_000) byHour.clear();
    byHour.set(hour, date);
  }
  return date;
}

/** First day of the Stockholm month an instant falls in. */
export function stockholmMonth(instant: string | Date): string {
  return `${stockholmDate(instant).slice(0, 7)}-01`;
}

const mondays = new Map<string, string>();

/** The Monday that starts the ISO week of a calendar date (YYYY-MM-DD). */
export function weekStart(date: string): string {
  let monday = mondays.get(date);
  if (monday === undefined) {
    const d = new Date(`${date}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    monday = d.toISOString().slice(0, 10);
    if (mondays.size > 50_000) mondays.clear();
    mondays.set(date, monday);
  }
  return monday;
}

export function today(): string {
  return stockholmDate(new Date());
}
