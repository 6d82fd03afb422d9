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
 * The same per UTC hour written out (`2026-01-31T23`), for instants in UTC (`…Z`), the way events carry them: a
 * lookup by the text's first 13 characters skips parsing the date, which took most of the time of a cached answer.
 */
const byHourText = new Map<string, string>();

/** The Stockholm calendar date (YYYY-MM-DD) of an instant: 2026-01-31T23:30Z is 2026-02-01. */
export function stockholmDate(instant: string | Date): string {
  if (typeof instant === 'string' && isUtcText(instant)) {
    const hour = instant.slice(0, 13);
    let date = byHourText.get(hour);
    if (date === undefined) {
      date = dateOf(Date.parse(instant));
      if (byHourText.size > 200_000) byHourText.clear();
      byHourText.set(hour, date);
    }
    return date;
  }
  return dateOf(typeof instant === 'string' ? Date.parse(instant) : instant.getTime());
}

/** `YYYY-MM-DDTHH:…Z`: an instant in UTC whose first 13 characters name its hour. */
function isUtcText(s: string): boolean {
  return (
    s.length >= 17 &&
    s.charCodeAt(s.length - 1) === 90 /* Z */ &&
    s.charCodeAt(4) === 45 /* - */ &&
    s.charCodeAt(7) === 45 &&
    s.charCodeAt(10) === 84 /* T */ &&
    s.charCodeAt(13) === 58 /* : */
  );
}

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
