// Calendar dates in Europe/Stockholm: statistics periods follow the Swedish wall clock, not UTC (SPEC §8).
const formatter = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Stockholm',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The Stockholm calendar date (YYYY-MM-DD) of an instant: 2026-01-31T23:30Z is 2026-02-01. */
export function stockholmDate(instant: string | Date): string {
  const d = typeof instant === 'string' ? new Date(instant) : instant;
  return formatter.format(d);
}

/** First day of the Stockholm month an instant falls in. */
export function stockholmMonth(instant: string | Date): string {
  return `${stockholmDate(instant).slice(0, 7)}-01`;
}

export function today(): string {
  return stockholmDate(new Date());
}
