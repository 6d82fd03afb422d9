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

/** The Stockholm calendar date (YYYY-MM-DD) of an instant: 2026-01-31T23:30Z is 2026-02-01. */
export function stockholmDate(instant: string | Date): string {
  const ms = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
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
